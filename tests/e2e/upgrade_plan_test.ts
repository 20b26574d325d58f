/**
 * @module talos_upgrade_plan through the binary: ordered steps, one minor version at
 * a time, etcd leader last, gates between control planes, workers batched —
 * and not one mutating RPC.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { type Harness, ok, spawnHarness, text } from "../harness.ts";

let sim: Sim;
let h: Harness;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 3, workers: 3, version: "v1.12.4" });
  h = await spawnHarness({ simInstance: sim });
});
afterAll(async () => {
  await h?.close();
  await sim?.stop();
});

const MUTATING = /Upgrade|Reboot|Pull|Apply|Service(Start|Stop|Restart)/;

describe("talos_upgrade_plan", () => {
  test("1.12 → 1.14: two minor steps, CPs one at a time with gates, leader last, workers in batches", async () => {
    const n = sim.calls.length;
    const r = ok(await h.call("talos_upgrade_plan", { version: "v1.14.2", worker_batch: 2 }));
    expect(r.target).toBe("ghcr.io/siderolabs/installer:v1.14.2");
    expect(r.path).toEqual(["v1.13.x (latest patch)", "v1.14.2"]);
    expect(r.blockers).toEqual([]);
    expect(r.current).toEqual({ "v1.12.4": ["10.5.0.2", "10.5.0.3", "10.5.0.4", "10.5.0.5", "10.5.0.6", "10.5.0.7"] });
    const seq = r.steps.map((s: { action: string; nodes?: string[]; to?: string }) =>
      `${s.action}:${(s.nodes ?? []).join("+")}${s.to ? `@${s.to.split(" ")[0]}` : ""}`
    );
    // The leader is sim-cp-1 (10.5.0.2): upgraded last among the control planes.
    expect(seq).toEqual([
      "check:10.5.0.2+10.5.0.3+10.5.0.4+10.5.0.5+10.5.0.6+10.5.0.7",
      "upgrade:10.5.0.3@v1.13.x",
      "gate:10.5.0.3",
      "upgrade:10.5.0.4@v1.13.x",
      "gate:10.5.0.4",
      "upgrade:10.5.0.2@v1.13.x",
      "gate:10.5.0.2",
      "upgrade:10.5.0.5+10.5.0.6@v1.13.x",
      "gate:10.5.0.5+10.5.0.6",
      "upgrade:10.5.0.7@v1.13.x",
      "gate:10.5.0.7",
      "upgrade:10.5.0.3@v1.14.2",
      "gate:10.5.0.3",
      "upgrade:10.5.0.4@v1.14.2",
      "gate:10.5.0.4",
      "upgrade:10.5.0.2@v1.14.2",
      "gate:10.5.0.2",
      "upgrade:10.5.0.5+10.5.0.6@v1.14.2",
      "gate:10.5.0.5+10.5.0.6",
      "upgrade:10.5.0.7@v1.14.2",
      "gate:10.5.0.7",
    ]);
    expect(r.steps[1].image).toBe("ghcr.io/siderolabs/installer:v1.13.<latest patch>");
    expect(r.steps[1].how).toBe("MachineService.Upgrade (reboots itself)");
    expect(r.steps[2].detail).toContain("etcd has all 3 members healthy and a leader");
    expect(r.steps[5].detail).toContain("etcd leader: last");
    // A plan for one control plane still waits for etcd's whole membership, not for "all 1".
    const one = ok(await h.call("talos_upgrade_plan", { version: "v1.13.10", nodes: ["10.5.0.3"] }));
    expect(one.steps.find((s: { action: string }) => s.action === "gate").detail)
      .toContain("etcd has all 3 members healthy and a leader");
    expect(sim.calls.slice(n).filter((c) => MUTATING.test(c.method))).toEqual([]);
  });

  test("an image keeps its repository; a lost quorum is a blocker", async () => {
    const cp2 = sim.cluster.find("10.5.0.3")!;
    const cp3 = sim.cluster.find("10.5.0.4")!;
    sim.cluster.setService("10.5.0.3", "etcd", { state: "Stopped" });
    sim.cluster.setService("10.5.0.4", "etcd", { state: "Stopped" });
    try {
      const r = ok(await h.call("talos_upgrade_plan", { image: "factory.talos.dev/metal-installer/abc:v1.13.9" }));
      expect(r.path).toEqual(["v1.13.9"]);
      expect(r.steps[1].image).toBe("factory.talos.dev/metal-installer/abc:v1.13.9");
      expect(r.blockers.join(" ")).toContain("etcd");
    } finally {
      cp2.services.find((s) => s.id === "etcd")!.state = "Running";
      cp3.services.find((s) => s.id === "etcd")!.state = "Running";
    }
  });

  test("a major-version crossing is a blocker with no steps", async () => {
    const r = ok(await h.call("talos_upgrade_plan", { version: "v2.0.0" }));
    expect(r.blockers).toEqual(["v1.x → v2.x crosses a major version; follow the Talos upgrade notes"]);
    expect(r.steps).toEqual([]);
  });

  test("bad input is refused with what to pass", async () => {
    expect(text(await h.call("talos_upgrade_plan", {}))).toContain("exactly one of version");
    expect(text(await h.call("talos_upgrade_plan", { image: "ghcr.io/siderolabs/installer:latest" })))
      .toContain("Cannot read a Talos version");
  });
});
