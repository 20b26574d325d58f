/**
 * @module Simulated container images: ImageService.List/Pull (Talos ≥ 1.13)
 * and the legacy MachineService.ImageList/ImagePull (before; UNIMPLEMENTED
 * ImageService there, as an older apid answers).
 */
import { createHash } from "node:crypto";
import type { SimNode } from "../model.ts";
import { Code, type HandlerTable, type SimCall, SimError } from "./types.ts";

const DEFAULT_IMAGES = [
  "ghcr.io/siderolabs/kubelet:v1.34.1",
  "registry.k8s.io/pause:3.10",
  "ghcr.io/siderolabs/flannel:v0.27.4",
  "registry.k8s.io/coredns/coredns:v1.12.3",
];
const CP_IMAGES = [
  "registry.k8s.io/kube-apiserver:v1.34.1",
  "registry.k8s.io/kube-controller-manager:v1.34.1",
  "registry.k8s.io/kube-scheduler:v1.34.1",
];

const minor = (node: SimNode) => Number(/^v?1\.(\d+)/.exec(node.version)?.[1] ?? 13);
const digest = (ref: string) => `sha256:${createHash("sha256").update(ref).digest("hex")}`;

/** Images in the node's containerd: the defaults plus what was pulled (ImageService.Pull, ImagePull). */
export function imagesOf(node: SimNode): string[] {
  return [...DEFAULT_IMAGES, ...(node.role === "controlplane" ? CP_IMAGES : []), ...(node.images ?? [])];
}

function record(ref: string) {
  return {
    name: ref,
    digest: digest(ref),
    size: String(10_000_000 + (parseInt(digest(ref).slice(7, 13), 16) % 90_000_000)),
    created_at: { seconds: "1760000000", nanos: 0 },
  };
}

function requireNew({ node }: SimCall, containerd: { driver?: string; namespace?: string } | null) {
  if (minor(node) < 13) throw new SimError(Code.UNIMPLEMENTED, "unknown service machine.ImageService");
  // Talos' checks on ContainerdInstance: NS_UNKNOWN and CONTAINERD + NS_CRI are rejected.
  if (!containerd || !containerd.namespace || containerd.namespace === "NS_UNKNOWN") {
    throw new SimError(Code.INVALID_ARGUMENT, "containerd namespace is required");
  }
  if (containerd.driver !== "CRI" && containerd.namespace === "NS_CRI") {
    throw new SimError(Code.INVALID_ARGUMENT, "CRI namespace is only supported with the CRI driver");
  }
}

/** What a pull of `ref` does: unknown registries fail as containerd would, else the image is stored. */
function pull(node: SimNode, ref: string): string {
  if (!ref || /\s/.test(ref)) throw new SimError(Code.INVALID_ARGUMENT, "image reference is required");
  if (ref.includes("does-not-exist")) {
    throw new SimError(Code.NOT_FOUND, `failed to resolve reference "${ref}": not found`);
  }
  node.images ??= [];
  if (!imagesOf(node).includes(ref)) node.images.push(ref);
  return `${ref.replace(/:[^/:@]+$/, "")}@${digest(ref)}`;
}

export const imageHandlers: HandlerTable = {
  unary: {
    ["/machine.MachineService/ImagePull"]: ({ node }, req) => {
      pull(node, req.reference);
      return { messages: [{}] };
    },
  },
  stream: {
    ["/machine.ImageService/List"]: async (call, req, send) => {
      requireNew(call, req.containerd);
      for (const ref of imagesOf(call.node)) await send({ ...record(ref), labels: {} });
    },
    ["/machine.ImageService/Pull"]: async (call, req, send) => {
      requireNew(call, req.containerd);
      const name = pull(call.node, req.image_ref);
      await send({
        pull_progress: { layer_id: "sha256:0001", progress: { status: "DOWNLOADING", offset: "1024", total: "4096" } },
      });
      await send({
        pull_progress: {
          layer_id: "sha256:0001",
          progress: { status: "EXTRACT_COMPLETE", offset: "4096", total: "4096" },
        },
      });
      await send({ name });
    },
    ["/machine.MachineService/ImageList"]: async ({ node }, _req, send) => {
      for (const ref of imagesOf(node)) await send(record(ref));
    },
  },
};
