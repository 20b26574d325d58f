/**
 * @module In-cluster credentials: Talos mounts the ServiceAccount's talosconfig
 * read-only (a Secret volume). The server starts from a read-only talosconfig in
 * a read-only directory, answers calls, and leaves both exactly as they were.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ok, spawnHarness } from "../harness.ts";
import { startSim } from "../../lib/sim/mod.ts";

const root = mkdtempSync(join(tmpdir(), "talos-mcp-rocfg-"));
afterAll(() => {
  chmodSync(join(root, "talos.dev"), 0o755);
  rmSync(root, { recursive: true, force: true });
});

test("a read-only talosconfig in a read-only directory: the server starts, answers, writes nothing", async () => {
  const sim = await startSim({ controlPlanes: 1, workers: 1 });
  const dir = join(root, "talos.dev"); // as Talos lays it out: /var/run/secrets/talos.dev/config
  mkdirSync(dir);
  const file = join(dir, "config");
  copyFileSync(sim.talosconfig, file);
  chmodSync(file, 0o444);
  chmodSync(dir, 0o555);
  const before = { bytes: readFileSync(file), mtime: statSync(file).mtimeMs, entries: readdirSync(dir) };
  const h = await spawnHarness({ simInstance: sim, env: { TALOSCONFIG: file, TALOS_MCP_READ_ONLY: "true" } });
  try {
    const contexts = ok(await h.call("talos_contexts"));
    expect(contexts.file).toBe(file);
    const version = ok(await h.call("talos_version"));
    expect(version.nodes.map((n: any) => n.node)).toEqual(["10.5.0.2", "10.5.0.3"]);
    expect(ok(await h.call("talos_services", { nodes: ["10.5.0.2"] })).nodes).toHaveLength(1);
  } finally {
    await h.close();
    await sim.stop();
  }
  expect(readdirSync(dir)).toEqual(before.entries);
  expect(readFileSync(file).equals(before.bytes)).toBe(true);
  expect(statSync(file).mtimeMs).toBe(before.mtime);
  expect(statSync(file).mode & 0o777).toBe(0o444);
});
