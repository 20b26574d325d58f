/**
 * @module talos_support_bundle against the simulator: one 0600 .tar.gz that any tar extracts, holding each
 * node's pieces; none of the secrets the simulator planted (machine config secrets, tokens in the kubelet
 * log) is in any extracted file; per-node failures are listed in errors.txt and the result; the result
 * holds the table of contents, never the content.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { failed, type Harness, inMemoryHarness, ok, text } from "../harness.ts";

const [CP, WORKER] = ["10.5.0.2", "10.5.0.3"];
let sim: Sim;
let h: Harness;
let out: string;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 1, workers: 1 });
  h = await inMemoryHarness({ simInstance: sim });
  out = join(sim.dir, "out");
  mkdirSync(out);
});
afterAll(async () => {
  await h?.close();
  await sim?.stop();
});

/** Extracts with the system tar (an independent reader) and returns file → content. */
function extract(tgz: string): Map<string, string> {
  const dir = join(out, `x-${Date.now()}`);
  mkdirSync(dir);
  const r = Bun.spawnSync(["tar", "-xzf", tgz, "-C", dir]);
  expect(r.exitCode).toBe(0);
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return files;
}

/** Secret values in the simulator's machine config, and the tokens its kubelet log prints. */
function plantedSecrets(): string[] {
  const cfg = parseAllDocuments(sim.cluster.find(CP)!.machineConfig)[0].toJS();
  const values = [
    cfg.machine.token,
    cfg.machine.ca.key,
    cfg.cluster.secret,
    cfg.cluster.token,
    cfg.cluster.ca.key,
    cfg.cluster.secretboxEncryptionSecret,
    "abcdef.0123456789abcdef",
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ",
  ].filter((s): s is string => typeof s === "string" && s.length > 8);
  expect(values.length).toBeGreaterThanOrEqual(6);
  return values;
}

describe("talos_support_bundle", () => {
  test("one 0600 archive with every piece per node, no planted secret in it, content never returned", async () => {
    const path = join(out, "bundle.tar.gz");
    const r = await h.call("talos_support_bundle", { nodes: [CP, WORKER], path, log_lines: 50 });
    const v = ok(r);
    const bytes = readFileSync(path);
    expect(v).toMatchObject({ path, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const files = extract(path);
    expect([...files.keys()].sort()).toEqual(v.files.map((f: { name: string }) => f.name).sort());
    for (const f of v.files) expect(Buffer.byteLength(files.get(f.name)!)).toBe(f.bytes);
    for (const n of [CP, WORKER]) {
      for (const piece of ["version.json", "services.json", "dmesg.log", "events.json", "logs/kubelet.log"]) {
        expect(files.has(`${n}/${piece}`)).toBe(true);
      }
      expect(files.get(`${n}/resources/MachineStatuses.yaml`)).toContain("stage");
      expect(files.get(`${n}/machine-config.yaml`)).toContain("<masked");
    }
    expect(files.has(`${CP}/etcd-status.json`)).toBe(true);
    expect(files.has(`${WORKER}/etcd-status.json`)).toBe(false); // a worker has no etcd: no piece, no error
    expect(files.get("errors.txt")).toBe("none\n");
    expect(files.get(`${CP}/logs/kubelet.log`)).toContain("Using bootstrap kubeconfig");
    for (const secret of plantedSecrets()) {
      for (const [name, content] of files) expect(content.includes(secret) ? name : "").toBe("");
    }
    expect(text(r)).not.toContain("Using bootstrap kubeconfig");
    expect(v.nodes.map((n: { node: string; files: number }) => n.node)).toEqual([CP, WORKER]);
  });

  test("a node that is down is listed in errors.txt and the result; the others are still bundled", async () => {
    sim.cluster.find(WORKER)!.faults.down = true;
    try {
      const path = join(out, "partial.tar.gz");
      const v = ok(await h.call("talos_support_bundle", { nodes: [CP, WORKER], path }));
      expect(v.nodes[1]).toMatchObject({ node: WORKER, code: "UNAVAILABLE" });
      expect(v.errors.some((e: string) => e.startsWith(`${WORKER}: [UNAVAILABLE]`))).toBe(true);
      const files = extract(path);
      expect(files.get("errors.txt")).toContain(`${WORKER}: [UNAVAILABLE]`);
      expect([...files.keys()].some((f) => f.startsWith(`${WORKER}/`))).toBe(false);
      expect(files.has(`${CP}/version.json`)).toBe(true);
    } finally {
      sim.cluster.find(WORKER)!.faults.down = false;
    }
  });

  test("a reader gets everything but the machine config, which errors.txt names", async () => {
    const path = join(out, "reader.tar.gz");
    const v = ok(await h.call("talos_support_bundle", { context: "sim-reader", nodes: [CP], path }));
    const files = extract(path);
    expect(files.has(`${CP}/machine-config.yaml`)).toBe(false);
    expect(files.get("errors.txt")).toMatch(/10\.5\.0\.2 machine config: \[PERMISSION_DENIED\]/);
    expect(v.nodes[0].failed_pieces).toBe(1);
  });

  test("every node failing is an error and writes nothing; an existing path is refused before any RPC", async () => {
    const path = join(out, "none.tar.gz");
    for (const n of sim.cluster.nodes) n.faults.down = true;
    try {
      const v = failed(await h.call("talos_support_bundle", { nodes: [CP, WORKER], path }));
      expect(v.nodes.map((n: { code: string }) => n.code)).toEqual(["UNAVAILABLE", "UNAVAILABLE"]);
      expect(readdirSync(out)).not.toContain("none.tar.gz");
    } finally {
      for (const n of sim.cluster.nodes) n.faults.down = false;
    }
    const before = sim.calls.length;
    const r = await h.call("talos_support_bundle", { nodes: [CP], path: join(out, "bundle.tar.gz") });
    expect(text(r)).toContain("pass overwrite: true");
    expect(sim.calls.length).toBe(before);
  });
});
