/**
 * @module talos_upgrade_kubernetes through the binary: the skew rules, a dry run showing every node's config diff,
 * and a run that changes one image at a time, waits for each static pod to be back with it, stops at the
 * first failure and resumes on the next call.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { type Harness, ok, spawnHarness, text } from "../harness.ts";

const CPS = ["10.5.0.2", "10.5.0.3", "10.5.0.4"];
const ALL = [...CPS, "10.5.0.5", "10.5.0.6"];

let sim: Sim;
let h: Harness;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 3, workers: 2, version: "v1.13.9" });
  h = await spawnHarness({ simInstance: sim, env: { TALOS_MCP_POLL_INTERVAL_MS: "10" } });
});
afterAll(async () => {
  await h?.close();
  await sim?.stop();
});

/** ApplyConfiguration calls since `from` that changed something (not dry runs), as "node component". */
// deno-lint-ignore no-explicit-any
const req = (c: { request: unknown }) => c.request as any;

const applied = (from: number) =>
  sim.calls.slice(from).filter((c) => c.method.endsWith("/ApplyConfiguration") && !req(c).dry_run).map((c) => {
    return `${c.node[0]} ${req(c).mode}`;
  });

const ORDER = [
  ...CPS.map((n) => `${n} kube-apiserver`),
  ...CPS.map((n) => `${n} kube-controller-manager`),
  ...CPS.map((n) => `${n} kube-scheduler`),
  ...CPS.map((n) => `${n} kube-proxy`),
  ...ALL.map((n) => `${n} kubelet`),
];

describe("talos_upgrade_kubernetes", () => {
  test("more than one minor, or past what Talos supports, is refused before any change", async () => {
    const n = sim.calls.length;
    const r = ok(await h.call("talos_upgrade_kubernetes", { version: "v1.36.0" }));
    expect(r.blockers).toEqual([
      "v1.34.1 → v1.36.0 skips 1 minor version(s); Kubernetes upgrades one minor at a time (go to v1.35.x first)",
    ]);
    expect(r.diffs).toEqual([]);
    const run = await h.call("talos_upgrade_kubernetes", {
      nodes: ALL,
      version: "v1.36.0",
      dry_run: false,
      confirm: true,
    });
    expect(run.isError).toBe(true);
    expect(text(run)).toContain("Not started: v1.34.1 → v1.36.0 skips 1 minor");
    expect(sim.callsTo("ApplyConfiguration").length).toBe(
      sim.calls.slice(0, n).filter((c) => c.method.endsWith("/ApplyConfiguration")).length,
    );
  });

  test("a dry run lists every change in order and each node's diff, and changes nothing", async () => {
    const n = sim.calls.length;
    const r = ok(await h.call("talos_upgrade_kubernetes", { version: "1.35.0" }));
    expect(r).toMatchObject({ from: "v1.34.1", to: "v1.35.0", blockers: [] });
    expect(r.changes.map((c: any) => `${c.node} ${c.component}`)).toEqual(ORDER);
    expect(r.changes[0]).toEqual({
      node: "10.5.0.2",
      component: "kube-apiserver",
      from: "registry.k8s.io/kube-apiserver:v1.34.1",
      to: "registry.k8s.io/kube-apiserver:v1.35.0",
      status: "planned",
    });
    expect(r.diffs.map((d: any) => d.node)).toEqual(ALL);
    const cp = r.diffs[0].diff;
    for (const c of ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"]) {
      expect(cp).toContain(`-    image: registry.k8s.io/${c}:v1.34.1`);
      expect(cp).toContain(`+    image: registry.k8s.io/${c}:v1.35.0`);
    }
    expect(r.diffs[4].diff).toContain("+    image: ghcr.io/siderolabs/kubelet:v1.35.0");
    expect(r.diffs[4].diff).not.toContain("kube-apiserver");
    expect(applied(n)).toEqual([]);
  });

  test("a run stops at the first failure, and the next call resumes and awaits every static pod", async () => {
    sim.cluster.find("10.5.0.3")!.faults.failMethods = ["ApplyConfiguration"];
    const n = sim.calls.length;
    let r: any;
    try {
      r = ok(
        await h.call("talos_upgrade_kubernetes", { nodes: ALL, version: "v1.35.0", dry_run: false, confirm: true }),
      );
    } finally {
      sim.cluster.find("10.5.0.3")!.faults.failMethods = undefined;
    }
    expect(r.changes.slice(0, 3).map((c: any) => c.status)).toEqual(["done", "failed", "not reached"]);
    expect(r.stopped).toContain("Stopped at kube-apiserver on 10.5.0.3");
    // The second was sent and refused; nothing after it was sent.
    expect(applied(n)).toEqual(["10.5.0.2 NO_REBOOT", "10.5.0.3 NO_REBOOT"]);
    expect(sim.cluster.find("10.5.0.3")!.machineConfig).toContain("registry.k8s.io/kube-apiserver:v1.34.1");
    // The first apiserver was awaited: its status read until the restarted pod ran the new image.
    const reads = sim.calls.slice(n).filter((c) =>
      c.method.endsWith("/Get") && req(c).id === "kube-system/kube-apiserver-sim-cp-1"
    );
    expect(reads.length).toBe(sim.cluster.podRestartReads + 1);

    const m = sim.calls.length;
    const again = ok(
      await h.call("talos_upgrade_kubernetes", { nodes: ALL, version: "v1.35.0", dry_run: false, confirm: true }),
    );
    expect(again.stopped).toBeUndefined();
    expect(again.changes.map((c: any) => `${c.node} ${c.component}`)).toEqual(ORDER.slice(1)); // the done one is skipped
    expect(again.changes.every((c: any) => c.status === "done")).toBe(true);
    expect(applied(m).length).toBe(ORDER.length - 1);
    // Each control-plane change waited for its pod before the next apply went out.
    const calls = sim.calls.slice(m);
    const applies = calls.map((c, i) => [c, i] as const).filter(([c]) => c.method.endsWith("/ApplyConfiguration"));
    const [, first] = applies[0];
    const [, second] = applies[1];
    expect(calls.slice(first, second).filter((c) => req(c)?.id === "kube-system/kube-apiserver-sim-cp-2").length)
      .toBe(sim.cluster.podRestartReads + 1);
    for (const node of sim.cluster.nodes) {
      expect(node.machineConfig).toContain("ghcr.io/siderolabs/kubelet:v1.35.0");
      if (node.role === "controlplane") expect(node.machineConfig).toContain("registry.k8s.io/kube-scheduler:v1.35.0");
    }
    const plan = ok(await h.call("talos_upgrade_kubernetes", { version: "v1.35.0" }));
    expect(plan.changes).toEqual([]);
  });
});
