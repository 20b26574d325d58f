/**
 * @module talos_kubeconfig and talos_etcd_snapshot through the binary: the local file
 * is 0600 with exactly the bytes the node sent, the result holds only path,
 * size and sha256, and existing files are never clobbered unless asked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { simKubeconfig, simSnapshot } from "../../lib/sim/handlers/exports.ts";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { callsSince, type Harness, ok, spawnHarness, text } from "../harness.ts";

let sim: Sim;
let h: Harness;
let out: string;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 1, workers: 1 });
  h = await spawnHarness({ simInstance: sim });
  out = join(sim.dir, "out");
  mkdirSync(out);
});
afterAll(async () => {
  await h?.close();
  await sim?.stop();
});

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("talos_kubeconfig", () => {
  test("writes the kubeconfig from the gzip tar, 0600, and returns no content", async () => {
    const path = join(out, "kubeconfig");
    const r = await h.call("talos_kubeconfig", { path });
    const v = ok(r);
    const expected = simKubeconfig("sim");
    expect(v).toEqual({ path, bytes: Buffer.byteLength(expected), sha256: sha(expected), node: "10.5.0.2" });
    expect(readFileSync(path, "utf8")).toBe(expected);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(text(r)).not.toContain("client-key-data");
    expect(text(r)).not.toContain("BEGIN");
    expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("refuses to overwrite without overwrite: true, before any RPC", async () => {
    const path = join(out, "existing");
    writeFileSync(path, "keep me");
    const n = sim.callsTo("Kubeconfig").length;
    const r = await h.call("talos_kubeconfig", { path });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("pass overwrite: true");
    expect(readFileSync(path, "utf8")).toBe("keep me");
    expect(sim.callsTo("Kubeconfig").length).toBe(n);
    ok(await h.call("talos_kubeconfig", { path, overwrite: true }));
    expect(readFileSync(path, "utf8")).toBe(simKubeconfig("sim"));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("never the talosconfig in use, even with overwrite (also through a symlink): nothing sent, file intact", async () => {
    const before = readFileSync(sim.talosconfig);
    const link = join(out, "link-to-talosconfig");
    symlinkSync(sim.talosconfig, link);
    const calls = callsSince(sim);
    for (const [tool, path] of [["talos_kubeconfig", sim.talosconfig], ["talos_etcd_snapshot", link]]) {
      const r = await h.call(tool, { path, overwrite: true });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("is the talosconfig this server uses; talos-mcp never writes it");
    }
    expect(calls("Kubeconfig")).toEqual([]);
    expect(calls("EtcdSnapshot")).toEqual([]);
    expect(readFileSync(sim.talosconfig)).toEqual(before);
  });

  test("relative paths and missing directories are refused", async () => {
    expect(text(await h.call("talos_kubeconfig", { path: "kubeconfig" }))).toContain("path must be absolute");
    expect(text(await h.call("talos_kubeconfig", { path: join(out, "nope", "k") }))).toContain("does not exist");
  });

  test("a worker node cannot serve it: the error names the node, no file is left", async () => {
    const path = join(out, "from-worker");
    const r = await h.call("talos_kubeconfig", { path, node: "10.5.0.3" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("10.5.0.3");
    expect(existsSync(path)).toBe(false);
  });

  test("a reader certificate is refused before any RPC, naming the role", async () => {
    const n = sim.callsTo("Kubeconfig").length;
    const r = await h.call("talos_kubeconfig", { path: join(out, "reader"), context: "sim-reader" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("needs a certificate with role os:admin");
    expect(text(r)).toContain('context "sim-reader" has os:reader');
    expect(sim.callsTo("Kubeconfig").length).toBe(n);
  });
});

describe("talos_etcd_snapshot", () => {
  test("streams the snapshot into a 0600 file with a matching sha256", async () => {
    const path = join(out, "etcd.snapshot");
    const v = ok(await h.call("talos_etcd_snapshot", { path }));
    const expected = simSnapshot(sim.cluster.find("10.5.0.2")!);
    expect(v).toEqual({ path, bytes: expected.length, sha256: sha(expected), node: "10.5.0.2" });
    expect(sha(readFileSync(path))).toBe(sha(expected));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(sim.callsTo("EtcdSnapshot").at(-1)!.node).toEqual(["10.5.0.2"]);
  });

  test("an operator may take one (os:operator is allowed)", async () => {
    const path = join(out, "operator.snapshot");
    expect(ok(await h.call("talos_etcd_snapshot", { path, context: "sim-operator" })).bytes).toBeGreaterThan(0);
  });

  test("a stream failing midway leaves no file behind", async () => {
    const path = join(out, "cut.snapshot");
    sim.cluster.find("10.5.0.2")!.faults.cutStreamAfter = 3;
    try {
      const r = await h.call("talos_etcd_snapshot", { path });
      expect(r.isError).toBe(true);
      expect(existsSync(path)).toBe(false);
      expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    } finally {
      sim.cluster.find("10.5.0.2")!.faults.cutStreamAfter = undefined;
    }
  });
});
