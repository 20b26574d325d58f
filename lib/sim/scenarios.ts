/**
 * @module Faults an SRE would look for, planted one per call on a node of the
 * simulated cluster (tests, `talos-mcp sim --fault NODE:KIND`, the demo). Each
 * kind changes only the model; the handlers show it through the same RPCs and
 * resources a real node would (a full disk in Mounts, an OOM kill in Dmesg,
 * an alarm in EtcdAlarmList, ...).
 */
import type { SimCluster, SimNode } from "./model.ts";

/** Model state behind the planted faults; the handlers read it, absent means healthy. */
export interface PlantedFaults {
  /** Local etcd member: status errors, no leader seen, database figures in bytes, a raised alarm. */
  etcd?: {
    errors?: string[];
    noLeader?: boolean;
    dbSize?: number;
    dbInUse?: number;
    alarm?: "NOSPACE" | "CORRUPT";
  };
  /** Kernel records appended to the ring buffer: [facility, priority, text]. */
  kernel?: Array<[string, string, string]>;
  /** TimeStatus synced=false. */
  timeNotSynced?: boolean;
  /** eth0 (the link of the default route) has no carrier. */
  linkDown?: boolean;
  /** The default route is gone from RouteStatuses. */
  noDefaultRoute?: boolean;
  /** MachineStatus unmet conditions beyond those the model derives (time, services). */
  unmet?: Array<{ name: string; reason: string }>;
  /** Fraction of STATE (/system/state) in use, 0..1. */
  stateUsed?: number;
  /** User volumes (mounted at /var/mnt/<name>) with the fraction in use. */
  userVolumes?: Record<string, number>;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** One fault: what it is, whether it needs a control plane, and how it changes the node. */
interface FaultKind {
  about: string;
  controlPlane?: boolean;
  plant(cluster: SimCluster, node: SimNode): void;
}

const planted = (node: SimNode): PlantedFaults => (node.planted ??= {});

/** Records that look like the kernel's own, at error priority. */
const kernel = (node: SimNode, ...records: Array<[string, string, string]>) =>
  (planted(node).kernel ??= []).push(...records);

/** Every fault kind the simulator can plant, by the name `--fault` and tests use. */
export const FAULT_KINDS = {
  "service-unhealthy": {
    about: "kubelet running but failing its health check",
    plant: (c, n) =>
      c.setService(n.ip, "kubelet", {
        healthy: false,
        message: "Get http://127.0.0.1:10248/healthz: connection refused",
      }),
  },
  "service-restarting": {
    about: "extension service ext-foo failed 6 times in the last 7 minutes (running again right now)",
    plant: (c, n) => {
      if (!n.services.some((s) => s.id === "ext-foo")) {
        n.services.push({ id: "ext-foo", state: "Running", healthy: null, message: "" });
      }
      n.recentEvents = [...(n.recentEvents ?? [])];
      for (let i = 0; i < 6; i++) {
        const ago = 420 - i * 70;
        n.recentEvents.push(
          {
            secondsAgo: ago,
            type: "ServiceStateEvent",
            data: { service: "ext-foo", action: "FAILED", message: "Failed running service: exit code 1" },
          },
          {
            secondsAgo: ago - 30,
            type: "ServiceStateEvent",
            data: { service: "ext-foo", action: "RUNNING", message: "Service started as goroutine" },
          },
        );
      }
      c.changed(n);
    },
  },
  "etcd-service-unhealthy": {
    about: "etcd running but failing its health check",
    controlPlane: true,
    plant: (c, n) => c.setService(n.ip, "etcd", { healthy: false, message: "context deadline exceeded" }),
  },
  "etcd-member-errors": {
    about: "the local etcd member reports errors in its status",
    controlPlane: true,
    plant: (_c, n) => void (planted(n).etcd = { ...planted(n).etcd, errors: ["etcdserver: request timed out"] }),
  },
  "etcd-no-leader": {
    about: "the local etcd member sees no leader",
    controlPlane: true,
    plant: (_c, n) => void (planted(n).etcd = { ...planted(n).etcd, noLeader: true }),
  },
  "etcd-alarm-nospace": {
    about: "etcd raised NOSPACE for this member (cluster-wide: every member lists it)",
    controlPlane: true,
    plant: (_c, n) => void (planted(n).etcd = { ...planted(n).etcd, alarm: "NOSPACE" }),
  },
  "etcd-alarm-corrupt": {
    about: "etcd raised CORRUPT for this member (cluster-wide)",
    controlPlane: true,
    plant: (_c, n) => void (planted(n).etcd = { ...planted(n).etcd, alarm: "CORRUPT" }),
  },
  "etcd-db-near-quota": {
    about: "etcd database 1.8 GiB of the default 2 GiB quota, mostly in use",
    controlPlane: true,
    plant: (_c, n) =>
      void (planted(n).etcd = { ...planted(n).etcd, dbSize: Math.round(1.8 * GiB), dbInUse: Math.round(1.7 * GiB) }),
  },
  "etcd-db-fragmented": {
    about: "etcd database 900 MiB of which 200 MiB in use",
    controlPlane: true,
    plant: (_c, n) => void (planted(n).etcd = { ...planted(n).etcd, dbSize: 900 * MiB, dbInUse: 200 * MiB }),
  },
  "ephemeral-full": {
    about: "EPHEMERAL (/var) 95% full",
    plant: (_c, n) => void (n.usage = { ...n.usage, varUsed: 0.95 }),
  },
  "state-full": {
    about: "STATE (/system/state) 96% full",
    plant: (_c, n) => void (planted(n).stateUsed = 0.96),
  },
  "user-volume-full": {
    about: "user volume data (/var/mnt/data) 97% full",
    plant: (_c, n) => void (planted(n).userVolumes = { ...planted(n).userVolumes, data: 0.97 }),
  },
  "memory-pressure": {
    about: "3% of memory available",
    plant: (_c, n) => void (n.usage = { ...n.usage, memUsed: 0.97 }),
  },
  "oom-kill": {
    about: "the kernel's OOM killer killed a java process",
    plant: (_c, n) =>
      kernel(
        n,
        ["kern", "warning", "java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=936"],
        ["kern", "err", "Out of memory: Killed process 48213 (java) total-vm:9123456kB, anon-rss:6234120kB"],
      ),
  },
  "disk-io-error": {
    about: "I/O errors on sdb in the kernel log",
    plant: (_c, n) => {
      for (const sector of [2048, 2056, 2064, 4096, 4104, 4112, 8192, 8200]) {
        kernel(n, ["kern", "err", `blk_update_request: I/O error, dev sdb, sector ${sector} op 0x0:(READ)`]);
      }
    },
  },
  "fs-error": {
    about: "an ext4 error on sda6 in the kernel log",
    plant: (_c, n) =>
      kernel(n, [
        "kern",
        "crit",
        "EXT4-fs error (device sda6): ext4_find_entry:1455: inode #2: comm kubelet: reading directory lblock 0",
      ]),
  },
  "time-not-synced": {
    about: "time not synchronised (TimeStatus)",
    plant: (c, n) => {
      planted(n).timeNotSynced = true;
      c.changed(n);
    },
  },
  "link-down": {
    about: "eth0, the link of the default route, has no carrier",
    plant: (c, n) => {
      planted(n).linkDown = true;
      c.changed(n);
    },
  },
  "no-default-route": {
    about: "no default route",
    plant: (c, n) => {
      planted(n).noDefaultRoute = true;
      c.changed(n);
    },
  },
  "not-ready": {
    about: "the machine is running but not ready: its static pods are not up",
    plant: (c, n) => {
      planted(n).unmet = [{ name: "staticPods", reason: "static pod kube-apiserver is not running" }];
      c.changed(n);
    },
  },
  "version-skew": {
    about: "this node still runs v1.12.4 (cluster-wide: the others run the default version)",
    plant: (c, n) => {
      n.version = "v1.12.4";
      c.changed(n);
    },
  },
  "diagnostic": {
    about: "Talos' own Diagnostics resource reports an address overlap",
    plant: (c, n) => {
      n.diagnostics = [{
        id: "address-overlap",
        message: "host and Kubernetes pod/service CIDR addresses overlap",
        details: ["10.5.0.0/24"],
      }];
      c.changed(n);
    },
  },
} satisfies Record<string, FaultKind>;

export type FaultKindName = keyof typeof FAULT_KINDS;

/**
 * Plants fault `kind` on node `target` (IP or hostname) and returns what undoes it (the node's
 * state as it was), so one cluster can show each fault alone in turn. Throws for an unknown node
 * or kind, or a control-plane fault aimed at a worker.
 */
export function plantFault(cluster: SimCluster, target: string, kind: string): () => void {
  const node = cluster.find(target);
  if (!node) throw new Error(`no node ${target}`);
  const k: FaultKind | undefined = (FAULT_KINDS as Record<string, FaultKind>)[kind];
  if (!k) throw new Error(`unknown fault ${kind}; known: ${Object.keys(FAULT_KINDS).join(", ")}`);
  if (k.controlPlane && node.role !== "controlplane") throw new Error(`${kind} needs a control plane, not ${target}`);
  const before = structuredClone({
    services: node.services,
    usage: node.usage,
    recentEvents: node.recentEvents,
    planted: node.planted,
    diagnostics: node.diagnostics,
    version: node.version,
  });
  k.plant(cluster, node);
  return () => {
    Object.assign(node, before);
    cluster.changed(node);
  };
}
