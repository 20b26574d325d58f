/**
 * @module Simulated Shutdown and Reset, with Talos' rules: both answer at once and the node then goes
 * away; Reset checks its volume labels and user disks, leaves etcd when graceful, and a node whose
 * config was wiped comes back in maintenance mode (or stays off until powered on).
 */
import { randomUUID } from "node:crypto";
import type { SimCluster, SimNode } from "../model.ts";
import { Code, type HandlerTable, one, SimError } from "./types.ts";

const M = "/machine.MachineService/";

/** System volumes Reset can wipe by label; STATE holds the machine config, META the META keys. */
const SYSTEM_VOLUMES = ["STATE", "EPHEMERAL", "META"];
/** The simulated node has only its system disk (/dev/sda, lib/sim/handlers/stats.ts), so no user disk. */
const USER_DISKS: string[] = [];

interface ResetRequest {
  graceful: boolean;
  reboot: boolean;
  system_partitions_to_wipe: Array<{ label: string; wipe: boolean }>;
  user_disks_to_wipe: string[];
  mode: string;
}

function reset(cluster: SimCluster, node: SimNode, req: ResetRequest) {
  const labels = (req.system_partitions_to_wipe ?? []).filter((p) => p.wipe).map((p) => p.label);
  for (const l of labels) {
    if (!SYSTEM_VOLUMES.includes(l)) throw new SimError(Code.INVALID_ARGUMENT, `failed to find volume "${l}"`);
  }
  for (const d of req.user_disks_to_wipe ?? []) {
    if (d === "/dev/sda") throw new SimError(Code.INVALID_ARGUMENT, `"${d}" is the system disk`);
    if (!USER_DISKS.includes(d)) throw new SimError(Code.INVALID_ARGUMENT, `disk "${d}" not found`);
  }
  const mode = req.mode ?? "ALL";
  if (labels.length && mode === "USER_DISKS") {
    throw new SimError(Code.INVALID_ARGUMENT, "system partitions can't be wiped in USER_DISKS mode");
  }
  if (req.graceful && node.role === "controlplane" && cluster.controlPlanes().length === 1 && !node.leftEtcd) {
    throw new SimError(
      Code.FAILED_PRECONDITION,
      "etcd: this is the last member, leaving would destroy the cluster; reset with graceful=false",
    );
  }
  if (req.graceful && node.role === "controlplane") node.leftEtcd = true;
  const wholeDisk = labels.length === 0 && mode !== "USER_DISKS";
  if (wholeDisk || labels.includes("STATE")) cluster.wipeConfig(node);
  if (wholeDisk || labels.includes("META")) node.meta.clear();
  if (req.reboot) cluster.reboot(node);
  else node.poweredOff = true;
  cluster.changed(node);
  return one({ actor_id: randomUUID() });
}

export const powerHandlers: HandlerTable = {
  unary: {
    [`${M}Shutdown`]: ({ node, cluster }) => {
      node.poweredOff = true;
      cluster.changed(node);
      return one({ actor_id: randomUUID() });
    },
    [`${M}Reset`]: ({ node, cluster }, req) => reset(cluster, node, req),
  },
  stream: {},
};
