/**
 * @module Simulated etcd RPCs (control-plane nodes only): members are the
 * control planes, the leader is the first one whose etcd runs, and a node
 * that is down or whose etcd service is not running is an unhealthy member.
 */
import type { SimCluster, SimNode } from "../model.ts";
import { Code, type HandlerTable, one, type SimCall, SimError } from "./types.ts";

const M = "/machine.MachineService/";

/** Whether `node`'s etcd member is up: node reachable and etcd service Running. */
export function etcdHealthy(node: SimNode): boolean {
  return !node.faults.down && !node.rebootingFor && node.services.some((s) => s.id === "etcd" && s.state === "Running");
}

/** The current leader: the first control plane with a healthy etcd, if a quorum of members is healthy. */
function etcdLeader(cluster: SimCluster): SimNode | undefined {
  const members = cluster.controlPlanes();
  const healthy = members.filter(etcdHealthy);
  return healthy.length > members.length / 2 ? healthy[0] : undefined;
}

/** Alarms raised in the cluster (planted per member); every member lists all of them, as etcd does. */
function etcdAlarms(cluster: SimCluster): Array<{ member_id: string; alarm: string }> {
  return cluster.controlPlanes().flatMap((n) =>
    n.planted?.etcd?.alarm ? [{ member_id: n.etcdMemberId, alarm: n.planted.etcd.alarm }] : []
  );
}

function requireControlPlane({ node }: SimCall) {
  if (node.role !== "controlplane") {
    throw new SimError(Code.FAILED_PRECONDITION, "etcd is not available on worker nodes");
  }
  if (!etcdHealthy(node)) throw new SimError(Code.UNAVAILABLE, "etcd service is not running");
}

export const etcdHandlers: HandlerTable = {
  unary: {
    // Once per cluster: the node starts etcd as a new cluster and the other control planes join it.
    [`${M}Bootstrap`]: ({ node, cluster }) => {
      if (node.role !== "controlplane") {
        throw new SimError(Code.FAILED_PRECONDITION, "bootstrap is only supported on control plane nodes");
      }
      if (cluster.etcdBootstrapped) throw new SimError(Code.ALREADY_EXISTS, "etcd data directory is not empty");
      cluster.etcdBootstrapped = true;
      for (const n of cluster.controlPlanes()) {
        Object.assign(n.services.find((s) => s.id === "etcd")!, { state: "Running", healthy: true, message: "" });
        cluster.changed(n);
      }
      return one({});
    },
    [`${M}EtcdMemberList`]: (call, req) => {
      requireControlPlane(call);
      // Without query_local the list goes through the cluster and needs a leader (quorum).
      if (!req.query_local && !etcdLeader(call.cluster)) {
        throw new SimError(Code.UNAVAILABLE, "etcdserver: no leader");
      }
      return one({
        legacy_members: [],
        members: call.cluster.controlPlanes().map((n) => ({
          id: n.etcdMemberId,
          hostname: n.hostname,
          peer_urls: [`https://${n.ip}:2380`],
          client_urls: [`https://${n.ip}:2379`],
          is_learner: false,
        })),
      });
    },
    [`${M}EtcdStatus`]: (call) => {
      requireControlPlane(call);
      const planted = call.node.planted?.etcd;
      const leader = planted?.noLeader ? undefined : etcdLeader(call.cluster);
      // etcd's Status lists the cluster's raised alarms among its errors ("memberID:<id> alarm:NOSPACE ").
      const alarms = etcdAlarms(call.cluster).map((a) => `memberID:${a.member_id} alarm:${a.alarm} `);
      return one({
        member_status: {
          protocol_version: "3.6.5",
          storage_version: "3.6.0",
          db_size: String(planted?.dbSize ?? 28672000),
          db_size_in_use: String(planted?.dbInUse ?? 14336000),
          leader: leader?.etcdMemberId ?? "0",
          raft_index: "184467",
          raft_term: "7",
          raft_applied_index: "184467",
          errors: [
            ...(leader || planted?.noLeader ? [] : ["etcdserver: no leader"]),
            ...(planted?.errors ?? []),
            ...alarms,
          ],
          is_learner: false,
          member_id: call.node.etcdMemberId,
        },
      });
    },
    [`${M}EtcdAlarmList`]: (call) => {
      requireControlPlane(call);
      return one({ member_alarms: etcdAlarms(call.cluster) });
    },
  },
  stream: {},
};
