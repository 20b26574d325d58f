/**
 * @module Simulated node lifecycle: service start/stop/restart with Talos'
 * rules (kubelet start/restart, ext-* anything), Reboot, Rollback (both answer
 * at once, the node then goes away), the legacy Upgrade, and the 1.13+ flow
 * (ImageService.Pull, LifecycleService.Upgrade).
 */
import { randomUUID } from "node:crypto";
import { simVersion } from "../versions.ts";
import type { SimCluster, SimNode } from "../model.ts";
import { imagesOf } from "./images.ts";
import { Code, type HandlerTable, one, type SimCall, SimError } from "./types.ts";

const M = "/machine.MachineService/";

type Op = "start" | "stop" | "restart";
const PAST: Record<Op, string> = { start: "started", stop: "stopped", restart: "restarted" };

/** Only kubelet (start, restart) and extension services opt in to API control. */
function serviceOp(op: Op) {
  return ({ node }: SimCall, req: { id: string }) => {
    const svc = node.services.find((s) => s.id === req.id);
    if (!svc) throw new SimError(Code.NOT_FOUND, `service "${req.id}" not found`);
    const allowed = svc.id.startsWith("ext-") || (svc.id === "kubelet" && op !== "stop");
    if (!allowed) throw new SimError(Code.UNKNOWN, `service "${req.id}" doesn't support ${op} operation via API`);
    svc.state = op === "stop" ? "Finished" : "Running";
    return one({ resp: `Service "${svc.id}" ${PAST[op]}` });
  };
}

const minor = (node: SimNode) => simVersion(node.version)?.minor ?? 13;

function requireLifecycleApi(node: SimNode, what: string) {
  if (minor(node) < 13) throw new SimError(Code.UNIMPLEMENTED, `unknown service ${what}`);
}

function reboot(cluster: SimCluster, node: SimNode) {
  cluster.reboot(node);
  return one({ actor_id: randomUUID() });
}

/** The version an installer image carries, or the node's own when the tag says nothing. */
function versionOf(image: string, node: SimNode): string {
  const ref = image.split("@")[0];
  const v = simVersion(ref);
  return v ? `v${v.major}.${v.minor}.${v.patch}` : node.version;
}

export const lifecycleHandlers: HandlerTable = {
  unary: {
    [`${M}ServiceStart`]: serviceOp("start"),
    [`${M}ServiceStop`]: serviceOp("stop"),
    [`${M}ServiceRestart`]: serviceOp("restart"),
    [`${M}Reboot`]: ({ node, cluster }) => reboot(cluster, node),
    [`${M}Rollback`]: ({ node, cluster }) => {
      if (!node.previousVersion) {
        throw new SimError(Code.FAILED_PRECONDITION, "cannot rollback: no previous installation found");
      }
      node.pendingVersion = node.previousVersion;
      cluster.reboot(node);
      return one({});
    },
    // Legacy upgrade: validates the image synchronously, then installs and reboots.
    [`${M}Upgrade`]: ({ node, cluster }, req) => {
      if (!req.image) throw new SimError(Code.INVALID_ARGUMENT, "image is required");
      if (/does-not-exist/.test(req.image)) {
        throw new SimError(Code.NOT_FOUND, `failed to pull image ${req.image}: not found`);
      }
      node.pendingVersion = versionOf(req.image, node);
      cluster.reboot(node);
      return one({ ack: "Upgrade request received", actor_id: randomUUID() });
    },
  },
  stream: {
    ["/machine.LifecycleService/Upgrade"]: async ({ node, cluster }, req, send) => {
      requireLifecycleApi(node, "machine.LifecycleService");
      const image: string = req.source?.image_name ?? "";
      if (!image) throw new SimError(Code.INVALID_ARGUMENT, "source image is required");
      if (!imagesOf(node).includes(image)) {
        throw new SimError(Code.FAILED_PRECONDITION, `installer image ${image} not found in containerd store`);
      }
      await send({ progress: { message: `installing ${image}` } });
      await send({ progress: { message: "writing the inactive boot slot" } });
      const code = cluster.upgradeExitCode;
      if (code === 0) node.pendingVersion = versionOf(image, node);
      await send({ progress: { exit_code: code } });
    },
  },
};
