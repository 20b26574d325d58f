/**
 * @module The error for a mutating call whose connection broke after the request was sent and before a
 * reply: the node may or may not have acted on it, so it is not sent again. The message says how to find
 * out, per RPC, so the agent reads the state before deciding to retry.
 */
import { ToolError } from "../errors.ts";
import type { CallInfo } from "./explain.ts";

const HOW_TO_CHECK: Record<string, string> = {
  Reboot: "check with talos_version whether the node rebooted (it stops answering, then answers with a new boot id)",
  Upgrade: "check with talos_version which version the node runs and whether it rebooted",
  Rollback: "check with talos_version which version the node runs and whether it rebooted",
  Shutdown: "check with talos_version whether the node still answers",
  Reset: "check with talos_version whether the node still answers, and talos_get machinestatus for its stage",
  ApplyConfiguration: "read the node's config with talos_get machineconfig and compare it with what was applied",
  ServiceStart: "check the service's state with talos_services",
  ServiceStop: "check the service's state with talos_services",
  ServiceRestart: "check the service's state and restart count with talos_services",
  Bootstrap: "check with talos_etcd (status) whether etcd is running",
  EtcdDefragment: "check with talos_etcd (status) the member's database size",
  EtcdAlarmDisarm: "check with talos_etcd (alarms)",
  EtcdForfeitLeadership: "check with talos_etcd (status) which member leads",
  EtcdLeaveCluster: "check with talos_etcd (members) whether the member is still listed",
  EtcdRemoveMemberByID: "check with talos_etcd (members) whether the member is still listed",
  ImagePull: "check with talos_images whether the image is there",
  Pull: "check with talos_images whether the image is there",
  MetaWrite: "read the key with talos_meta",
  MetaDelete: "read the key with talos_meta",
};

/** An OUTCOME_UNKNOWN ToolError for the mutating call described by `info`, which lost its connection. */
export function outcomeUnknown(detail: string, info: CallInfo): ToolError {
  const method = info.method.slice(info.method.lastIndexOf("/") + 1);
  const call = info.method.replace(/^\/[^/]*\./, "").replace("/", ".");
  const where = info.node ? `node ${info.node}` : `endpoint ${info.endpoint}`;
  const check = HOW_TO_CHECK[method] ?? "re-read the state it changes";
  return new ToolError(
    `${call} on ${where}: outcome unknown. The connection to endpoint ${info.endpoint} broke after the request ` +
      `was sent and before a reply (${detail}), so the node may or may not have acted on it; it was not sent ` +
      `again. Before retrying, ${check}.`,
    "OUTCOME_UNKNOWN",
  );
}
