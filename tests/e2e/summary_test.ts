/**
 * @module talos_node_summary and talos_contexts through the binary: one call gives
 * each node's facts from several RPCs; problems in the model show up as
 * warnings; a node that is down is an entry with an error, not a failed call.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { entry, type Harness, ok, spawnHarness } from "../harness.ts";

let sim: Sim;
let h: Harness;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 3, workers: 1 });
  h = await spawnHarness({ simInstance: sim });
});
afterAll(async () => {
  await h?.close();
  await sim?.stop();
});

describe("talos_node_summary", () => {
  test("one compact object per node from parallel RPCs", async () => {
    const before = sim.calls.length;
    const r = ok(await h.call("talos_node_summary"));
    expect(r.nodes).toHaveLength(4);
    const cp = entry(r, "10.5.0.2");
    expect(cp.hostname).toBe("sim-cp-1");
    expect(cp.role).toBe("controlplane");
    expect(cp.talos).toBe("v1.13.9");
    expect(cp.kubernetes).toBe("v1.34.1");
    expect(cp.stage).toBe("running");
    expect(cp.ready).toBe(true);
    expect(cp.k8s_node_ready).toBe(true);
    expect(cp.cpus).toBe(4);
    expect(cp.memory.total_mib).toBe(8192); // 8 GiB reported in KiB by the API
    expect(cp.memory.used_pct).toBe(38);
    expect(cp.load[0]).toBe(0.42);
    expect(cp.uptime_s).toBeGreaterThanOrEqual(3 * 86_400 + 5_400);
    expect(cp.uptime_s).toBeLessThan(3 * 86_400 + 5_500);
    // The read-only root image (always "full") is no volume to watch; STATE and EPHEMERAL are.
    expect(cp.disks).toEqual([
      { volume: "STATE", mount: "/system/state", size_gib: 0.1, used_pct: 7 },
      { volume: "EPHEMERAL", mount: "/var", size_gib: 90, used_pct: 27 },
    ]);
    expect(cp.warnings).toEqual([]);
    expect(r.cluster_warnings).toEqual([]);
    expect(cp.unavailable).toBeUndefined();
    expect(entry(r, "10.5.0.5").role).toBe("worker");
    // Several RPCs per node, each with single-valued node metadata.
    const calls = sim.calls.slice(before);
    for (const m of ["Version", "SystemStat", "Memory", "LoadAvg", "Mounts", "ServiceList", "Dmesg"]) {
      expect(calls.filter((c) => c.method.endsWith(`/${m}`)).map((c) => c.node[0]).sort())
        .toEqual(["10.5.0.2", "10.5.0.3", "10.5.0.4", "10.5.0.5"]);
    }
    // The kernel log is its current buffer (not followed); etcd is asked on control planes only.
    expect(calls.filter((c) => c.method.endsWith("/Dmesg")).map((c) => c.request)).toEqual(
      Array(4).fill({ follow: false, tail: false }),
    );
    expect(calls.filter((c) => c.method.endsWith("/EtcdStatus")).map((c) => c.node[0]).sort())
      .toEqual(["10.5.0.2", "10.5.0.3", "10.5.0.4"]);
    // No one-off AddressStatuses list while a default route names the primary link.
    expect(calls.filter((c) => c.method.endsWith("/List") && /AddressStatuses/.test(JSON.stringify(c.request))))
      .toHaveLength(0);
    expect(calls.every((c) => c.nodes.length === 0)).toBe(true);
  });

  test("problems become warnings, each once: unhealthy service, full disk, memory, load, diagnostics", async () => {
    const n = sim.cluster.find("10.5.0.3")!;
    sim.cluster.setService("10.5.0.3", "kubelet", { healthy: false, message: "kubelet: node not found token=abcdef" });
    n.usage = { varUsed: 0.93, memUsed: 0.95, load1: 9.5 };
    n.diagnostics = [{
      id: "address-overlap",
      message: "host and Kubernetes pod/service CIDR addresses overlap",
      details: ["10.5.0.0/24"],
    }];
    try {
      const e = entry(ok(await h.call("talos_node_summary", { nodes: ["10.5.0.3"] })), "10.5.0.3");
      // MachineStatus is not ready for the unhealthy service too: said once, by the service's warning.
      expect(e.ready).toBe(false);
      expect(e.warnings).toEqual([
        'service kubelet: Running, unhealthy: "kubelet: node not found token=<masked: secret>" (ServiceList)',
        "EPHEMERAL (/var) 93% full of 90 GiB (Mounts)",
        "memory pressure: 5% available (410 of 8192 MiB, MemAvailable)",
        "load 8.55 over 5 min on 4 CPUs (LoadAvg): work has been waiting for CPU or I/O",
        "Talos diagnostic address-overlap: host and Kubernetes pod/service CIDR addresses overlap (10.5.0.0/24)",
      ]);
    } finally {
      sim.cluster.setService("10.5.0.3", "kubelet", { healthy: true, message: "" });
      n.usage = undefined;
      n.diagnostics = undefined;
    }
  });

  test(
    "recent failure events become warnings, one per subject; old ones and the endless stream do not linger",
    async () => {
      const n = sim.cluster.find("10.5.0.3")!;
      n.recentEvents = [
        { secondsAgo: 900, type: "ConfigLoadErrorEvent", data: { error: "too old to matter" } },
        { secondsAgo: 150, type: "ServiceStateEvent", data: { service: "etcd", action: "FAILED", message: "exit 1" } },
        {
          secondsAgo: 120,
          type: "ConfigValidationErrorEvent",
          data: { error: "1 error occurred:\n\t* .cluster.token=abcdef.0123456789abcdef is invalid" },
        },
        {
          secondsAgo: 90,
          type: "ServiceStateEvent",
          data: { service: "etcd", action: "RUNNING", health: { unknown: false, healthy: true } },
        },
        {
          secondsAgo: 60,
          type: "SequenceEvent",
          data: { sequence: "upgrade", action: "STOP", error: { message: "failed to drain" } },
        },
      ];
      const before = sim.calls.length;
      try {
        const e = entry(ok(await h.call("talos_node_summary", { nodes: ["10.5.0.3"] })), "10.5.0.3");
        expect(e.warnings).toHaveLength(3);
        expect(e.warnings[0]).toMatch(
          /^event \d{4}-\d\d-\d\dT[\d:]+Z service etcd failed: exit 1 \(since recovered\)$/,
        );
        expect(e.warnings[1]).toContain("config validation error: 1 error occurred: * .cluster.token=<masked");
        expect(e.warnings[1]).not.toContain("0123456789abcdef");
        expect(e.warnings[2]).toMatch(/Z sequence upgrade stop: error failed to drain$/);
        expect(JSON.stringify(e)).not.toContain("too old");
        expect(e.unavailable).toBeUndefined();
        const ev = sim.calls.slice(before).filter((c) => c.method.endsWith("/Events"));
        expect(ev.map((c) => c.request)).toMatchObject([{ tail_seconds: 600, tail_events: 0 }]);
      } finally {
        n.recentEvents = undefined;
      }
    },
    // The Events stream never ends and the call deadline is 15s: answering well before proves we cancel it.
    8_000,
  );

  test("a node whose Events call fails still gets its summary, with events listed as unavailable", async () => {
    const n = sim.cluster.find("10.5.0.4")!;
    n.faults.failMethods = ["Events"];
    try {
      const r = ok(await h.call("talos_node_summary", { nodes: ["10.5.0.2", "10.5.0.4"] }));
      const e = entry(r, "10.5.0.4");
      expect(e.error).toBeUndefined();
      expect(e.talos).toBe("v1.13.9");
      expect(e.role).toBe("controlplane");
      expect(e.warnings).toEqual([]);
      expect(Object.keys(e.unavailable)).toEqual(["events"]);
      expect(e.unavailable.events).toContain("Events failed (simulated fault)");
      expect(entry(r, "10.5.0.2").unavailable).toBeUndefined();
    } finally {
      n.faults.failMethods = undefined;
    }
  });

  test("a node that is down is an error entry; the others still answer", async () => {
    sim.cluster.find("10.5.0.4")!.faults.down = true;
    try {
      const r = ok(await h.call("talos_node_summary", { nodes: ["10.5.0.2", "10.5.0.4"] }));
      expect(entry(r, "10.5.0.4").code).toBe("UNAVAILABLE");
      expect(entry(r, "10.5.0.2").talos).toBe("v1.13.9");
    } finally {
      sim.cluster.find("10.5.0.4")!.faults.down = false;
    }
  });

  test("a reader certificate gets the summary (every part is reader-level)", async () => {
    const e = entry(ok(await h.call("talos_node_summary", { context: "sim-reader", nodes: ["10.5.0.2"] })), "10.5.0.2");
    expect(e.unavailable).toBeUndefined();
    expect(e.role).toBe("controlplane");
  });
});

describe("talos_contexts", () => {
  test("lists contexts with roles and expiry, never key material, and makes no RPC", async () => {
    const before = sim.calls.length;
    const r = await h.call("talos_contexts");
    const v = ok(r);
    expect(v.current).toBe("sim");
    expect(v.contexts.map((c: { name: string }) => c.name)).toEqual(["sim", "sim-operator", "sim-reader"]);
    const admin = v.contexts[0];
    expect(admin.current).toBe(true);
    expect(admin.roles).toEqual(["os:admin"]);
    expect(admin.nodes).toEqual(["10.5.0.2", "10.5.0.3", "10.5.0.4", "10.5.0.5"]);
    expect(admin.endpoints).toEqual([`127.0.0.1:${sim.endpoints[0].port}`]);
    expect(new Date(admin.expires).getTime()).toBeGreaterThan(Date.now());
    expect(v.contexts[2].roles).toEqual(["os:reader"]);
    const textOut = JSON.stringify(r);
    expect(textOut).not.toContain("PRIVATE KEY");
    expect(textOut).not.toContain("LS0tLS1");
    expect(sim.calls.length).toBe(before);
  });
});
