/**
 * @module talos_node_summary as a diagnosis, through the binary: each fault the
 * simulator can plant is planted alone on a clean cluster, and exactly that
 * node (or the cluster-wide list) gets exactly that warning, every other node
 * none. The clean cluster has no warning at all.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FAULT_KINDS, type FaultKindName, plantFault } from "../../lib/sim/scenarios.ts";
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

const CP = "10.5.0.3";
const WORKER = "10.5.0.5";
const member = () => BigInt(sim.cluster.find(CP)!.etcdMemberId).toString(16).padStart(16, "0");

/** Fault → [node it is planted on, that node's warnings, the cluster-wide warnings]. */
const EXPECTED: Record<FaultKindName, () => [string, string[], string[]]> = {
  "service-unhealthy": () => [WORKER, [
    'service kubelet: Running, unhealthy: "Get http://127.0.0.1:10248/healthz: connection refused" (ServiceList)',
  ], []],
  "service-restarting": () => [WORKER, [
    'service ext-foo: failed 6 times in 7 min, last: "Failed running service: exit code 1" ' +
    "(events of the last 10 min); running again now",
  ], []],
  "etcd-service-unhealthy": () => [CP, [
    'etcd member unhealthy: service etcd: Running, unhealthy: "context deadline exceeded" (ServiceList)',
  ], []],
  "etcd-member-errors": () => [CP, ['etcd member unhealthy: errors "etcdserver: request timed out" (EtcdStatus)'], []],
  "etcd-no-leader":
    () => [CP, ["etcd member unhealthy: no leader (EtcdStatus leader=0): the member serves no writes"], []],
  "etcd-alarm-nospace": () => [CP, [], [
    `etcd alarm NOSPACE raised for member ${member()} of node 10.5.0.3 (sim-cp-2), per EtcdAlarmList: ` +
    "the database reached its quota; etcd accepts only reads and deletes, so Kubernetes cannot write. " +
    "Clear: compact and defragment every member (talosctl etcd defrag), then talosctl etcd alarm disarm",
  ]],
  "etcd-alarm-corrupt": () => [CP, [], [
    `etcd alarm CORRUPT raised for member ${member()} of node 10.5.0.3 (sim-cp-2), per EtcdAlarmList: ` +
    "this member's data differs from the others; etcd refuses requests until it is cleared. " +
    "Clear: replace the member (talosctl etcd remove-member, wipe and rejoin it, or restore a snapshot), " +
    "then talosctl etcd alarm disarm",
  ]],
  "etcd-db-near-quota": () => [CP, [
    "etcd database 1.8 GiB, 1.7 GiB (94%) in use (EtcdStatus): 90% of the 2 GiB default quota; at the quota " +
    "etcd raises NOSPACE and refuses writes: compact, then defragment (talosctl etcd defrag, one member at a time)",
  ], []],
  "etcd-db-fragmented": () => [CP, [
    "etcd database 900 MiB, 200 MiB (22%) in use (EtcdStatus): mostly fragmentation; defragment to reclaim it " +
    "(talosctl etcd defrag, one member at a time)",
  ], []],
  "ephemeral-full": () => [WORKER, ["EPHEMERAL (/var) 95% full of 90 GiB (Mounts)"], []],
  "state-full": () => [WORKER, ["STATE (/system/state) 96% full of 0.1 GiB (Mounts)"], []],
  "user-volume-full": () => [WORKER, ["user volume data (/var/mnt/data) 97% full of 20 GiB (Mounts)"], []],
  "memory-pressure": () => [WORKER, ["memory pressure: 3% available (492 of 16384 MiB, MemAvailable)"], []],
  "oom-kill": () => [WORKER, [
    'OOM kill: the kernel killed java once (kernel log, newest 1000 records): "Out of memory: Killed process ' +
    '48213 (java) total-vm:9123456kB, anon-rss:6234120kB"',
  ], []],
  "disk-io-error": () => [WORKER, [
    'disk I/O errors on sdb, 8 times (kernel log, newest 1000 records): "blk_update_request: I/O error, dev sdb, ' +
    'sector 8200 op 0x0:(READ)"',
  ], []],
  "fs-error": () => [WORKER, [
    'filesystem errors on sda6, once (kernel log, newest 1000 records): "EXT4-fs error (device sda6): ' +
    'ext4_find_entry:1455: inode #2: comm kubelet: reading directory lblock 0"',
  ], []],
  "time-not-synced": () => [WORKER, [
    "time not synchronised (TimeStatus synced=false): TLS and etcd need a correct clock; check that the NTP " +
    "servers answer (TimeServerStatuses, talos_logs machined)",
  ], []],
  "link-down": () => [WORKER, [
    "network: primary link eth0 (carries the default route) is down (LinkStatus operationalState=down, carrier off)",
  ], []],
  "no-default-route": () => [WORKER, [
    "network: no default route (RouteStatuses: none in table main): only directly connected networks are reachable",
  ], []],
  "not-ready": () => [WORKER, [
    "machine not ready: unmet staticPods (static pod kube-apiserver is not running) (MachineStatus)",
  ], []],
  "version-skew": () => [WORKER, [], [
    "Talos version skew (Version): 10.5.0.5 (sim-worker-1) runs v1.12.4; the other 3 nodes run v1.13.9. " +
    "Upgrade the odd ones, one minor version at a time (talos_upgrade_plan)",
  ]],
  "diagnostic": () => [WORKER, [
    "Talos diagnostic address-overlap: host and Kubernetes pod/service CIDR addresses overlap (10.5.0.0/24)",
  ], []],
};

/** Every node's warnings, by node; and the cluster-wide ones. */
async function diagnose(): Promise<{ byNode: Record<string, string[]>; cluster: string[] }> {
  const r = ok(await h.call("talos_node_summary"));
  const byNode: Record<string, string[]> = {};
  for (const n of r.nodes) {
    expect(n.error).toBeUndefined();
    expect(n.unavailable).toBeUndefined();
    byNode[n.node] = n.warnings;
  }
  return { byNode, cluster: r.cluster_warnings };
}

const clean = { "10.5.0.2": [], "10.5.0.3": [], "10.5.0.4": [], "10.5.0.5": [] };

describe("talos_node_summary diagnoses one fault at a time", () => {
  test("a clean cluster: no warning on any node, none cluster-wide", async () => {
    expect(await diagnose()).toEqual({ byNode: clean, cluster: [] });
  });

  test("every fault the simulator plants has its expected warning", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(FAULT_KINDS).sort());
  });

  for (const kind of Object.keys(EXPECTED) as FaultKindName[]) {
    test(kind, async () => {
      const [node, warnings, cluster] = EXPECTED[kind]();
      const undo = plantFault(sim.cluster, node, kind);
      try {
        expect(await diagnose()).toEqual({ byNode: { ...clean, [node]: warnings }, cluster });
      } finally {
        undo();
      }
    });
  }

  test("undoing the faults leaves the cluster clean again", async () => {
    expect(await diagnose()).toEqual({ byNode: clean, cluster: [] });
  });

  test("a node that cannot be reached is one error, and the others stay quiet", async () => {
    sim.cluster.find(WORKER)!.faults.down = true;
    try {
      const r = ok(await h.call("talos_node_summary"));
      const down = entry(r, WORKER);
      expect(Object.keys(down).sort()).toEqual(["code", "error", "hostname", "node"]);
      expect(down.code).toBe("UNAVAILABLE");
      for (const n of ["10.5.0.2", "10.5.0.3", "10.5.0.4"]) expect(entry(r, n).warnings).toEqual([]);
      expect(r.cluster_warnings).toEqual([]);
    } finally {
      sim.cluster.find(WORKER)!.faults.down = false;
    }
  });
});

describe("the talosconfig client certificate", () => {
  test("expiring within 7 days is said once, cluster-wide", async () => {
    const h3 = await spawnHarness({ sim: { controlPlanes: 1, workers: 1, clientCertDays: 3 } });
    try {
      const r = ok(await h3.call("talos_node_summary"));
      expect(r.nodes.map((n: { warnings: string[] }) => n.warnings)).toEqual([[], []]);
      expect(r.cluster_warnings).toHaveLength(1);
      expect(r.cluster_warnings[0]).toMatch(
        /^talosconfig: the client certificate of context sim expires in 2 days \(\d{4}-\d\d-\d\dT[\d:]+Z\); issue a new one before then/,
      );
    } finally {
      await h3.close();
    }
  });
});
