/**
 * @module Simulated etcd RPCs (control-plane nodes only): members are the
 * control planes, the leader is the first one whose etcd runs, and a node
 * that is down or whose etcd service is not running is an unhealthy member.
 */
import type { SimCluster, SimNode } from "../model.ts";
import { Code, type HandlerTable, one, type SimCall, SimError } from "./types.ts";

const M = "/machine.MachineService/";

/** Whether `node`'s etcd member is up: node in service and etcd service Running. */
export function etcdHealthy(cluster: SimCluster, node: SimNode): boolean {
  return !cluster.isDown(node) && node.services.some((s) => s.id === "etcd" && s.state === "Running");
}

/**
 * The current leader, if a quorum of members is healthy: the member leadership was last moved to while it
 * stays healthy, else the first control plane with a healthy etcd.
 */
function etcdLeader(cluster: SimCluster): SimNode | undefined {
  const members = cluster.controlPlanes();
  const healthy = members.filter((n) => etcdHealthy(cluster, n));
  if (healthy.length <= members.length / 2) return undefined;
  return healthy.find((n) => n.etcdMemberId === cluster.etcdLeaderId) ?? healthy[0];
}

/** Alarms raised in the cluster (planted per member); every member lists all of them, as etcd does. */
function etcdAlarms(cluster: SimCluster): Array<{ member_id: string; alarm: string }> {
  return cluster.controlPlanes().flatMap((n) =>
    n.planted?.etcd?.alarm ? [{ member_id: n.etcdMemberId, alarm: n.planted.etcd.alarm }] : []
  );
}

function requireControlPlane({ node, cluster }: SimCall) {
  if (node.role !== "controlplane") {
    throw new SimError(Code.FAILED_PRECONDITION, "etcd is not available on worker nodes");
  }
  if (!etcdHealthy(cluster, node)) throw new SimError(Code.UNAVAILABLE, "etcd service is not running");
  if (node.leftEtcd) throw new SimError(Code.UNAVAILABLE, "etcd is not running: this node left the etcd cluster");
}

/** Membership changes go through the leader, as in etcd: without quorum they fail. */
function requireLeader(cluster: SimCluster): SimNode {
  const leader = etcdLeader(cluster);
  if (!leader) throw new SimError(Code.UNAVAILABLE, "etcdserver: no leader");
  return leader;
}

/** Default figures: a database that is half free pages until a defragmentation gives them back. */
const DB_SIZE = 28672000;
const DB_IN_USE = 14336000;

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
          db_size: String(planted?.dbSize ?? DB_SIZE),
          db_size_in_use: String(planted?.dbInUse ?? DB_IN_USE),
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
    // etcd's disarm with no member named clears every raised alarm in the cluster; the reply lists them.
    [`${M}EtcdAlarmDisarm`]: (call) => {
      requireControlPlane(call);
      requireLeader(call.cluster);
      const cleared = etcdAlarms(call.cluster);
      for (const n of call.cluster.controlPlanes()) if (n.planted?.etcd) n.planted.etcd.alarm = undefined;
      return one({ member_alarms: cleared });
    },
    // Gives the free pages back: the file shrinks to what is in use.
    [`${M}EtcdDefragment`]: (call) => {
      requireControlPlane(call);
      const etcd = (call.node.planted ??= {}).etcd ??= {};
      etcd.dbSize = etcd.dbInUse ?? DB_IN_USE;
      etcd.dbInUse = etcd.dbSize;
      return one({});
    },
    // The leader hands leadership to another healthy member and names it; a follower answers with no name.
    [`${M}EtcdForfeitLeadership`]: (call) => {
      requireControlPlane(call);
      const leader = requireLeader(call.cluster);
      if (leader !== call.node) return one({ member: "" });
      const next = call.cluster.controlPlanes().find((n) => n !== call.node && etcdHealthy(call.cluster, n));
      if (!next) throw new SimError(Code.FAILED_PRECONDITION, "etcdserver: no other member to transfer leadership to");
      call.cluster.etcdLeaderId = next.etcdMemberId;
      return one({ member: next.hostname });
    },
    [`${M}EtcdLeaveCluster`]: (call) => {
      requireControlPlane(call);
      requireLeader(call.cluster);
      if (call.cluster.controlPlanes().length === 1) {
        throw new SimError(Code.FAILED_PRECONDITION, "etcdserver: cannot remove the last member of the cluster");
      }
      call.node.leftEtcd = true;
      call.cluster.changed(call.node);
      return one({});
    },
    [`${M}EtcdRemoveMemberByID`]: (call, req) => {
      requireControlPlane(call);
      requireLeader(call.cluster);
      const id = String(req.member_id ?? "0");
      const member = call.cluster.controlPlanes().find((n) => n.etcdMemberId === id);
      if (!member) throw new SimError(Code.NOT_FOUND, `etcdserver: member not found: ${BigInt(id).toString(16)}`);
      member.leftEtcd = true;
      call.cluster.changed(member);
      return one({});
    },
  },
  stream: {},
};
