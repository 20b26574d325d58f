/**
 * @module Simulated ClusterService.HealthCheck: served by control-plane nodes
 * only, needs a wait_timeout, reports each check as talosctl's server-side
 * check does ("waiting for X: ..." then "OK" or the error), ends OK or with
 * the failing check's error once wait_timeout has passed.
 */
import { SIM_ROLE } from "../rbac.ts";
import type { SimCluster, SimNode } from "../model.ts";
import { etcdHealthy } from "./etcd.ts";
import { Code, type HandlerTable, SimError, sleep } from "./types.ts";

/** How long one passing check takes. */
const CHECK_MS = 15;

type Check = [string, (nodes: SimNode[], cluster: SimCluster, admin: boolean) => string | undefined];

const serviceDown = (nodes: SimNode[], cluster: SimCluster, id: string) => {
  const bad = nodes.filter((n) => !cluster.isDown(n) && n.services.some((s) => s.id === id && s.healthy === false));
  return bad.length
    ? `${bad.length} error occurred:\n${
      bad.map((n) => `\t* ${n.ip}: service "${id}" not in expected state "Running": health check failed`).join("\n")
    }`
    : undefined;
};
const unreachable = (nodes: SimNode[], cluster: SimCluster) => {
  const down = nodes.filter((n) => cluster.isDown(n));
  return down.length
    ? down.map((n) =>
      `${n.ip}: rpc error: code = Unavailable desc = connection error: dial tcp ${n.ip}:50000: connect: no route to host`
    )
      .join("; ")
    : undefined;
};
const k8s = (admin: boolean) => admin ? undefined : "rpc error: code = PermissionDenied desc = not authorized";

const CHECKS: Check[] = [
  ["etcd to be healthy", (nodes, cluster) => {
    const bad = nodes.filter((n) => n.role === "controlplane" && !etcdHealthy(cluster, n));
    return bad.length
      ? bad.map((n) => `${n.ip}: service "etcd" not in expected state "Running"`).join("; ")
      : undefined;
  }],
  ["etcd members to be consistent across nodes", () => undefined],
  ["etcd members to be control plane nodes", () => undefined],
  ["apid to be ready", unreachable],
  ["all nodes memory sizes", () => undefined],
  ["all nodes disk sizes", () => undefined],
  ["no diagnostics", () => undefined],
  ["kubelet to be healthy", (nodes, cluster) => serviceDown(nodes, cluster, "kubelet")],
  ["all nodes to finish boot sequence", () => undefined],
  ["all k8s nodes to report", (_n, _c, admin) => k8s(admin)],
  ["all control plane static pods to be running", (_n, _c, admin) => k8s(admin)],
  ["all control plane components to be ready", (_n, _c, admin) => k8s(admin)],
  ["all k8s nodes to report ready", (_n, _c, admin) => k8s(admin)],
  ["kube-proxy to report ready", (_n, _c, admin) => k8s(admin)],
  ["coredns to report ready", (_n, _c, admin) => k8s(admin)],
  ["all k8s nodes to report schedulable", (_n, _c, admin) => k8s(admin)],
];

export const healthHandlers: HandlerTable = {
  unary: {},
  stream: {
    "/cluster.ClusterService/HealthCheck": async ({ node, cluster, roles, signal }, req, send) => {
      if (node.role !== "controlplane") {
        throw new SimError(Code.FAILED_PRECONDITION, "health check is only supported on control plane nodes");
      }
      const wait = Number(req.wait_timeout?.seconds ?? 0) * 1000 + Number(req.wait_timeout?.nanos ?? 0) / 1e6;
      const info = req.cluster_info ?? {};
      const named = [...(info.control_plane_nodes ?? []), ...(info.worker_nodes ?? [])];
      const nodes = named.length
        ? named.map((ip: string) =>
          cluster.find(ip) ?? ({ ip, faults: { down: true }, services: [] } as unknown as SimNode)
        )
        : cluster.configured();
      await send({ message: `discovered nodes: [${nodes.map((n) => JSON.stringify(n.ip)).join(" ")}]` });
      const admin = roles.includes(SIM_ROLE.admin);
      for (const [name, check] of CHECKS) {
        await send({ message: `waiting for ${name}: ...` });
        await sleep(CHECK_MS, signal); // a real check takes a moment; progress arrives spread out
        const error = wait > 0 ? check(nodes, cluster, admin) : "context deadline exceeded";
        if (!error) {
          await send({ message: `waiting for ${name}: OK` });
          continue;
        }
        await send({ message: `waiting for ${name}: ${error}` });
        await sleep(wait, signal); // the real check retries until wait_timeout, then gives up
        throw new SimError(Code.UNKNOWN, error);
      }
    },
  },
};
