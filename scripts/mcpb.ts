/**
 * @module MCP Bundles (.mcpb, manifest v0.4, `server.type: binary`): one per
 * released platform, holding the very binary that is released bare, a manifest
 * whose tool list comes from the reviewed tools/list snapshot, and user_config
 * for the talosconfig, the context and read-only mode. Packed and validated by
 * the official CLI (@anthropic-ai/mcpb), never by hand-rolled zip code.
 *
 *   bun scripts/mcpb.ts --version 0.1.0 [--out dist/mcpb]              every platform from dist/
 *   bun scripts/mcpb.ts --version 0.1.0 --binary PATH --os linux --arch amd64 --out dist/mcpb
 *
 * The second form is GoReleaser's post-build hook, so a bundle carries the
 * binary GoReleaser built and signed, not a rebuild.
 */
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { type Platform, PLATFORMS } from "./platforms.ts";

const ROOT = resolve(import.meta.dir, "..");
/** The CLI's entry point: run with this runtime (bun), which keeps it independent of the Node version on PATH. */
export const MCPB_CLI = join(ROOT, "node_modules/@anthropic-ai/mcpb/dist/cli/cli.js");
export const MCPB_SCHEMA = join(ROOT, "node_modules/@anthropic-ai/mcpb/dist/mcpb-manifest-v0.4.schema.json");

/** MCPB names platforms as Node's process.platform does. */
const MCPB_PLATFORM = { linux: "linux", darwin: "darwin", windows: "win32" } as const;

/** Bundle file name: like the bare binaries, no version in it (the release URL has it); "mcp" in it, as the registry wants. */
export const bundleName = (p: Platform) => `talos-mcp-${p.os}-${p.goarch}.mcpb`;

/** Tool names and descriptions from the reviewed tools/list snapshot (the default, not read-only, surface). */
export function snapshotTools(): Array<{ name: string; description: string }> {
  const tools = JSON.parse(readFileSync(join(ROOT, "tests/snapshots/tools_list.json"), "utf8"));
  return tools.map((t: { name: string; description: string }) => ({ name: t.name, description: t.description }));
}

/** The v0.4 manifest for one platform's bundle. */
export function mcpbManifest(p: Platform, version: string, tools = snapshotTools()): Record<string, unknown> {
  const exe = `server/talos-mcp${p.os === "windows" ? ".exe" : ""}`;
  return {
    $schema: "https://raw.githubusercontent.com/modelcontextprotocol/mcpb/main/schemas/mcpb-manifest-v0.4.schema.json",
    manifest_version: "0.4",
    name: "talos-mcp",
    display_name: "Talos Linux",
    version,
    description: "Inspect and manage Talos Linux clusters through the Talos API, with guards and read-only mode.",
    long_description: "talos-mcp talks to the Talos gRPC API (apid) with the mTLS credentials of your talosconfig, " +
      "as talosctl does. Mutating tools need confirm: true and explicit nodes; read-only mode offers none of them.",
    author: { name: "talos-mcp", url: "https://github.com/talos-mcp/talos-mcp" },
    repository: { type: "git", url: "https://github.com/talos-mcp/talos-mcp" },
    homepage: "https://github.com/talos-mcp/talos-mcp",
    documentation: "https://github.com/talos-mcp/talos-mcp/blob/main/docs/install.md",
    license: "MPL-2.0",
    keywords: ["talos", "kubernetes", "sidero", "cluster"],
    server: {
      type: "binary",
      entry_point: exe,
      mcp_config: {
        command: `\${__dirname}/${exe}`,
        args: [],
        // Empty values mean "not set" to the server: TALOSCONFIG falls back to talosctl's lookup,
        // TALOS_CONTEXT to the talosconfig's current context.
        env: {
          TALOSCONFIG: "${user_config.talosconfig}",
          TALOS_CONTEXT: "${user_config.context}",
          TALOS_MCP_READ_ONLY: "${user_config.read_only}",
          // Every toolset, as the manifest's tool list says: the read-only setting is what the user chooses.
          TALOS_MCP_TOOLSETS: "all",
        },
      },
    },
    tools,
    compatibility: { platforms: [MCPB_PLATFORM[p.os]] },
    user_config: {
      talosconfig: {
        type: "file",
        title: "talosconfig",
        description: "The talosconfig file with the client certificate to use (talosctl's own, or one with a " +
          "smaller role such as os:reader).",
        required: false,
        default: "${HOME}/.talos/config",
      },
      context: {
        type: "string",
        title: "Context",
        description: "talosconfig context (cluster) used when a call names none; empty: the file's current context.",
        required: false,
        default: "",
      },
      read_only: {
        type: "boolean",
        title: "Read-only",
        description: "Offer no tool that changes a cluster or writes a local file.",
        required: false,
        default: true,
      },
    },
  };
}

/** Runs the mcpb CLI; rejects with its output when it fails. */
export async function mcpbCli(args: string[]): Promise<string> {
  // Bounded: a stuck pack must fail the release hook, not hold the release job.
  const { stdout } = await promisify(execFile)(process.execPath, [MCPB_CLI, ...args], {
    encoding: "utf8",
    timeout: 5 * 60_000,
  });
  return stdout;
}

/** Lays out and packs one bundle; returns its path. `mcpb pack` validates the manifest first. */
export async function packMcpb(p: Platform, version: string, binary: string, outDir: string): Promise<string> {
  const stage = mkdtempSync(join(tmpdir(), `talos-mcp-mcpb-${p.id}-`));
  try {
    const manifest = mcpbManifest(p, version);
    const entry = (manifest.server as { entry_point: string }).entry_point;
    mkdirSync(join(stage, "server"));
    copyFileSync(binary, join(stage, entry));
    chmodSync(join(stage, entry), 0o755); // pack keeps the mode: hosts exec the file as it is unpacked
    writeFileSync(join(stage, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    mkdirSync(outDir, { recursive: true });
    const out = resolve(outDir, bundleName(p));
    await mcpbCli(["pack", stage, out]);
    return out;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      version: { type: "string" },
      binary: { type: "string" },
      os: { type: "string" },
      arch: { type: "string" },
      out: { type: "string", default: join(ROOT, "dist/mcpb") },
    },
  });
  const version = values.version?.replace(/^v/, "");
  if (!version) {
    console.error("usage: mcpb.ts --version <semver> [--binary PATH --os OS --arch ARCH] [--out DIR]");
    process.exit(2);
  }
  const targets = values.binary
    ? PLATFORMS.filter((p) => p.os === values.os && p.goarch === values.arch).map((p) => ({ p, bin: values.binary! }))
    : PLATFORMS.map((p) => ({ p, bin: join(ROOT, "dist", p.asset) }));
  if (targets.length === 0) {
    console.error(`mcpb: no released platform ${values.os}-${values.arch}`);
    process.exit(2);
  }
  for (const { p, bin } of targets) console.error(`packed ${await packMcpb(p, version, bin, values.out!)}`);
}
