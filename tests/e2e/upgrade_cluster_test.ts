/**
 * @module talos_upgrade_cluster through the binary: a 3-control-plane + 2-worker cluster from 1.12 to 1.14
 * in two minor steps; a failed install stops it where it failed, a call cancelled by the client stops it
 * too, and calling again resumes from the nodes already upgraded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { type Harness, ok, spawnHarness, text } from "../harness.ts";

const CPS = ["10.5.0.2", "10.5.0.3", "10.5.0.4"];
const WORKERS = ["10.5.0.5", "10.5.0.6"];
const ALL = [...CPS, ...WORKERS];
const MUTATING = /\/(Upgrade|Pull|Reboot)$/;
const RUN = { nodes: ALL, version: "v1.14.2", via: ["v1.13.9"], dry_run: false, confirm: true };

const upgrades = (sim: Sim, from = 0) =>
  sim.calls.slice(from).filter((c) => MUTATING.test(c.method)).map((c) => `${c.node[0]} ${c.method.split(".").pop()}`);

describe("talos_upgrade_cluster", () => {
  let sim: Sim;
  let h: Harness;
  beforeAll(async () => {
    sim = await startSim({ controlPlanes: 3, workers: 2, version: "v1.12.4" });
    h = await spawnHarness({ simInstance: sim, env: { TALOS_MCP_POLL_INTERVAL_MS: "10" } });
  });
  afterAll(async () => {
    await h?.close();
    await sim?.stop();
  });

  test("a dry run without nodes plans the context's nodes and sends no change", async () => {
    const n = sim.calls.length;
    const r = ok(await h.call("talos_upgrade_cluster", { version: "v1.14.2" }));
    expect(r.path).toEqual(["v1.13.x (latest patch)", "v1.14.2"]);
    expect(r.steps.filter((s: any) => s.action === "upgrade").map((s: any) => s.nodes.join("+"))).toEqual([
      "10.5.0.3",
      "10.5.0.4",
      "10.5.0.2", // the etcd leader, last
      "10.5.0.5",
      "10.5.0.6",
      "10.5.0.3",
      "10.5.0.4",
      "10.5.0.2",
      "10.5.0.5",
      "10.5.0.6",
    ]);
    expect(r.warnings).toContain("pass via with the installer of v1.13.x (latest patch) to run this plan");
    expect(upgrades(sim, n)).toEqual([]);
  });

  test("a run needs explicit nodes, and the installer of each intermediate minor", async () => {
    const n = sim.calls.length;
    const noNodes = await h.call("talos_upgrade_cluster", { version: "v1.14.2", dry_run: false, confirm: true });
    expect(noNodes.isError).toBe(true);
    expect(text(noNodes)).toContain("needs explicit nodes");
    expect(sim.calls.length).toBe(n);
    const noVia = await h.call("talos_upgrade_cluster", { ...RUN, via: undefined });
    expect(noVia.isError).toBe(true);
    expect(text(noVia)).toContain("passes through v1.13.x (latest patch); name its installer with via");
    expect(upgrades(sim, n)).toEqual([]);
  });

  test("a failed install in the second step stops there; calling again resumes and finishes", async () => {
    // The 1.12 → 1.13 step uses the legacy Upgrade; the 1.13 → 1.14 step runs the installer, which fails.
    sim.cluster.upgradeExitCode = 3;
    const n = sim.calls.length;
    let r: any;
    try {
      r = ok(await h.call("talos_upgrade_cluster", RUN));
    } finally {
      sim.cluster.upgradeExitCode = 0;
    }
    expect(upgrades(sim, n)).toEqual([
      ...["10.5.0.3", "10.5.0.4", "10.5.0.2", "10.5.0.5", "10.5.0.6"].map((ip) => `${ip} MachineService/Upgrade`),
      "10.5.0.3 ImageService/Pull",
      "10.5.0.3 LifecycleService/Upgrade", // exit code 3: no Reboot, and nothing after it
    ]);
    expect(r.stopped).toContain("Stopped at 10.5.0.3 (step to v1.14.2)");
    expect(r.stopped).toContain("exited with code 3");
    const byNode = Object.fromEntries(r.nodes.map((e: any) => [e.node, e]));
    expect(byNode["10.5.0.3"].code).toBe("UPGRADE_FAILED");
    // Through the first step, not reached in the second.
    expect(byNode["10.5.0.4"]).toMatchObject({ from: "v1.12.4", to: "v1.13.9", upgraded: true });
    expect(sim.cluster.nodes.map((x) => x.version)).toEqual(Array(5).fill("v1.13.9"));

    const m = sim.calls.length;
    const again = ok(await h.call("talos_upgrade_cluster", RUN));
    expect(again.stopped).toBeUndefined();
    // Only the second step remains: no node repeats the first.
    expect(upgrades(sim, m)).toEqual(
      ["10.5.0.3", "10.5.0.4", "10.5.0.2", "10.5.0.5", "10.5.0.6"].flatMap((ip) => [
        `${ip} ImageService/Pull`,
        `${ip} LifecycleService/Upgrade`,
        `${ip} MachineService/Reboot`,
      ]),
    );
    for (const e of again.nodes) expect(e).toMatchObject({ from: "v1.13.9", to: "v1.14.2", upgraded: true });
    expect(sim.cluster.nodes.map((x) => x.version)).toEqual(Array(5).fill("v1.14.2"));
    // Between control planes: the one before answered with its new boot id and etcd was asked again.
    const calls = sim.calls.slice(m);
    const reboot = calls.findIndex((c) => c.method.endsWith("/Reboot") && c.node[0] === "10.5.0.3");
    const next = calls.findIndex((c) => c.method.endsWith("/Pull") && c.node[0] === "10.5.0.4");
    const between = calls.slice(reboot + 1, next).map((c) => `${c.node[0] ?? ""} ${c.method.split("/").pop()}`);
    expect(between).toContain("10.5.0.3 ServiceList");
    expect(between.some((c) => c.endsWith("EtcdStatus"))).toBe(true);

    const done = ok(await h.call("talos_upgrade_cluster", { ...RUN, dry_run: true }));
    expect(done.warnings).toContain("every node already runs v1.14.2; nothing to upgrade");
  });
});

describe("talos_upgrade_cluster cancelled by the client", () => {
  let sim: Sim;
  let h: Harness;
  beforeAll(async () => {
    sim = await startSim({ controlPlanes: 3, workers: 2, version: "v1.12.4" });
    // A long poll interval: the cancel arrives while the server waits between two polls of a rebooting node.
    h = await spawnHarness({ simInstance: sim, env: { TALOS_MCP_POLL_INTERVAL_MS: "60000" } });
  });
  afterAll(async () => {
    await h?.close();
    await sim?.stop();
  });

  test("stops mid-way on the AbortSignal; the next call resumes without repeating a node", async () => {
    sim.cluster.rebootCalls = 1; // the first poll is refused and the node is back right after it
    const abort = new AbortController();
    const call = h.client.callTool({ name: "talos_upgrade_cluster", arguments: RUN }, CallToolResultSchema, {
      signal: abort.signal,
      onprogress: (p) => {
        if (p.message === "waiting for 10.5.0.3 to come back") abort.abort();
      },
    });
    await expect(call).rejects.toThrow();
    await h.untilLog((l) => l.includes("tool=talos_upgrade_cluster") && l.includes("outcome=error"));
    expect(upgrades(sim)).toEqual(["10.5.0.3 MachineService/Upgrade"]);
    expect(sim.cluster.find("10.5.0.3")!.version).toBe("v1.13.9");

    sim.cluster.rebootCalls = 0; // back at once: no 60 s poll in the resumed call
    const n = sim.calls.length;
    const r = ok(await h.call("talos_upgrade_cluster", RUN));
    expect(r.stopped).toBeUndefined();
    const first = upgrades(sim, n).filter((u) => u.endsWith("MachineService/Upgrade"));
    expect(first).toEqual(["10.5.0.4", "10.5.0.2", "10.5.0.5", "10.5.0.6"].map((ip) => `${ip} MachineService/Upgrade`));
    expect(Object.fromEntries(r.nodes.map((e: any) => [e.node, e.from]))).toEqual({
      "10.5.0.2": "v1.12.4",
      "10.5.0.3": "v1.13.9",
      "10.5.0.4": "v1.12.4",
      "10.5.0.5": "v1.12.4",
      "10.5.0.6": "v1.12.4",
    });
    expect(sim.cluster.nodes.map((x) => x.version)).toEqual(Array(5).fill("v1.14.2"));
  });
});
