/**
 * @module MCPB manifests (v0.4, binary): one per released platform, each
 * accepted by the official `mcpb validate`, with the tools/list snapshot's
 * tools and user_config that maps onto settings the server reads. The packed
 * bundles themselves are checked in release_build_test.ts.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../../lib/config.ts";
import { bundleName, mcpbCli, mcpbManifest } from "../../scripts/mcpb.ts";
import { PLATFORMS } from "../../scripts/platforms.ts";

const ROOT = resolve(import.meta.dir, "../..");
const snapshot = JSON.parse(readFileSync(join(ROOT, "tests/snapshots/tools_list.json"), "utf8"));

/** `mcpb validate` on a manifest object: exit status and output. */
async function validate(manifest: unknown): Promise<{ ok: boolean; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), "talos-mcp-manifest-"));
  try {
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    return { ok: true, out: await mcpbCli(["validate", join(dir, "manifest.json")]) };
  } catch (err: any) {
    return { ok: false, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("every platform's manifest", () => {
  for (const p of PLATFORMS) {
    test(`${bundleName(p)} passes mcpb validate`, async () => {
      const r = await validate(mcpbManifest(p, "1.2.3"));
      expect(r.out).toContain("Manifest schema validation passes!");
      expect(r.ok).toBe(true);
    });
  }

  test("binary server, the platform's own executable, its platform only", () => {
    for (const p of PLATFORMS) {
      const m: any = mcpbManifest(p, "1.2.3");
      const exe = p.os === "windows" ? "server/talos-mcp.exe" : "server/talos-mcp";
      expect(m.manifest_version).toBe("0.4");
      expect(m.server).toMatchObject({
        type: "binary",
        entry_point: exe,
        mcp_config: { command: `\${__dirname}/${exe}` },
      });
      expect(m.compatibility.platforms).toEqual([{ linux: "linux", darwin: "darwin", windows: "win32" }[p.os]]);
      expect(m.version).toBe("1.2.3");
    }
  });

  test("the tools are the tools/list snapshot's", () => {
    const m: any = mcpbManifest(PLATFORMS[0], "1.2.3");
    expect(m.tools).toEqual(snapshot.map((t: any) => ({ name: t.name, description: t.description })));
    expect(m.tools.length).toBeGreaterThanOrEqual(30);
  });

  test("user_config: a talosconfig file, a context, read-only (on by default), each wired to the server's variable", () => {
    const m: any = mcpbManifest(PLATFORMS[0], "1.2.3");
    expect(Object.entries(m.user_config).map(([k, v]: [string, any]) => [k, v.type, v.default])).toEqual([
      ["talosconfig", "file", "${HOME}/.talos/config"],
      ["context", "string", ""],
      ["read_only", "boolean", true],
    ]);
    expect(m.server.mcp_config.env).toEqual({
      TALOSCONFIG: "${user_config.talosconfig}",
      TALOS_CONTEXT: "${user_config.context}",
      TALOS_MCP_READ_ONLY: "${user_config.read_only}",
      TALOS_MCP_TOOLSETS: "all", // the manifest lists every tool; read-only decides what the host offers
    });
    // What a host substitutes for the defaults is a configuration the server accepts.
    expect(loadConfig({ TALOS_CONTEXT: "", TALOS_MCP_READ_ONLY: "true" }).readOnly).toBe(true);
    expect(loadConfig({ TALOS_MCP_READ_ONLY: "false" }).readOnly).toBe(false);
  });
});

describe("mcpb validate rejects broken manifests", () => {
  const cases: Array<[string, (m: any) => void, string]> = [
    ["an unknown server type", (m) => (m.server.type = "exe"), "server"],
    ["no entry point", (m) => delete m.server.entry_point, "entry_point"],
    ["an unknown user_config type", (m) => (m.user_config.talosconfig.type = "path"), "user_config"],
    ["an unknown platform", (m) => (m.compatibility.platforms = ["windows"]), "compatibility"],
    ["a tool without a name", (m) => delete m.tools[0].name, "tools"],
  ];
  for (const [name, edit, where] of cases) {
    test(name, async () => {
      const m = structuredClone(mcpbManifest(PLATFORMS[0], "1.2.3"));
      edit(m);
      const r = await validate(m);
      expect(r.ok).toBe(false);
      expect(r.out).toContain(where);
    });
  }
});
