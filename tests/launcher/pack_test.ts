/**
 * @module The launcher as users get it: `npm pack` of the stamped package,
 * installed from the tarball with --ignore-scripts and run through its bin
 * link; and the real dist/talos-mcp served, fetched and spoken to over MCP.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, type Harness, ok, spawnHarness } from "../harness.ts";
import {
  FAKE_BINARY,
  type FakeRelease,
  HOST_ASSET,
  removeStampedLaunchers,
  sha256,
  stampedLauncher,
  startRelease,
  VERSION,
} from "./fake_release.ts";

let release: FakeRelease;
let work: string;

beforeAll(async () => {
  release = await startRelease();
  work = mkdtempSync(join(tmpdir(), "talos-mcp-pack-"));
});
afterAll(async () => {
  await release.close();
  rmSync(work, { recursive: true, force: true });
  removeStampedLaunchers();
});

const npm = (args: string[], cwd: string) =>
  execFileSync("npm", args, {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_update_notifier: "false" },
  })
    .toString();

test("npm pack → install --ignore-scripts from the tarball → run: fetches, verifies, runs", async () => {
  const pkg = stampedLauncher(release.files.get("checksums.txt")!);
  const [packed] = JSON.parse(npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], pkg));
  expect(packed.name).toBe("talos-mcp");
  expect(packed.version).toBe(VERSION);
  expect(packed.files.map((f: { path: string }) => f.path).sort()).toEqual([
    "README.md",
    "bin/talos-mcp.js",
    "lib/http.js",
    "lib/install.js",
    "lib/launcher.js",
    "lib/platform.js",
    "package.json",
    "release.json",
  ]);
  const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
  expect(manifest.scripts).toBeUndefined(); // no install scripts, nothing for --ignore-scripts to skip
  expect(manifest.dependencies).toBeUndefined();

  const project = join(work, "project");
  mkdirSync(project);
  npm(["init", "-y"], project);
  npm(["install", "--ignore-scripts", "--offline", "--no-audit", "--no-fund", join(work, packed.filename)], project);

  const cache = join(work, "cache");
  const proc = Bun.spawn([join(project, "node_modules/.bin/talos-mcp"), "--flag", "value"], {
    env: { PATH: process.env.PATH ?? "", HOME: work, TALOS_MCP_CACHE_DIR: cache, TALOS_MCP_MIRROR: release.url },
    stdin: new Blob(["via the tarball\n"]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect(stderr).toContain(`verified ${HOST_ASSET}`);
  expect(stdout).toBe("fake-server args=[--flag value]\nvia the tarball\n");
  expect(code).toBe(3);
  expect(sha256(readFileSync(join(cache, VERSION, HOST_ASSET)))).toBe(sha256(FAKE_BINARY));
}, 120_000);

test("the real server through the launcher: first run downloads dist/talos-mcp, then answers MCP", async () => {
  const real = await startRelease(readFileSync(BIN));
  let h: Harness | undefined;
  try {
    const pkg = stampedLauncher(real.files.get("checksums.txt")!);
    const cache = join(work, "real-cache");
    h = await spawnHarness({
      command: "node",
      args: [join(pkg, "bin/talos-mcp.js")],
      env: { TALOS_MCP_CACHE_DIR: cache, TALOS_MCP_MIRROR: real.url },
      sim: { controlPlanes: 1, workers: 0 },
    });
    const r = ok(await h.call("talos_version"));
    expect(r.nodes.map((n: any) => [n.node, n.tag])).toEqual([["10.5.0.2", "v1.13.9"]]);
    expect(h.stderr()).toContain(`verified ${HOST_ASSET} v${VERSION} (sha256 ${sha256(readFileSync(BIN))})`);
    expect(real.requests.filter((p) => p.endsWith(HOST_ASSET))).toHaveLength(1);
  } finally {
    await h?.close();
    await real.close();
  }
}, 120_000);
