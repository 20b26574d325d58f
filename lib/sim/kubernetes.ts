/**
 * @module Simulated Kubernetes control plane on a node: the component images come from its machine config
 * (cluster.apiServer/controllerManager/scheduler/proxy .image, machine.kubelet.image), and a static pod whose
 * image changes restarts: not ready for `cluster.podRestartReads` reads of its status, then running the new
 * image, as the kubelet recreates it.
 */
import { parseAllDocuments } from "yaml";
import type { SimNode } from "./model.ts";

/** Static pod name → where its image lives in the v1alpha1 document's `cluster` section. */
export const STATIC_PODS = {
  "kube-apiserver": "apiServer",
  "kube-controller-manager": "controllerManager",
  "kube-scheduler": "scheduler",
} as const;

export interface K8sImages {
  kubelet?: string;
  proxy?: string;
  pods: Partial<Record<keyof typeof STATIC_PODS, string>>;
}

/** The Kubernetes images a machine config names. */
function k8sImages(config: string): K8sImages {
  const v1 = parseAllDocuments(config).map((d) => d.toJS()).find((d) => d?.version === "v1alpha1" && !d.kind) ?? {};
  const pods: K8sImages["pods"] = {};
  for (const [pod, key] of Object.entries(STATIC_PODS)) {
    const image = v1.cluster?.[key]?.image;
    if (image) pods[pod as keyof typeof STATIC_PODS] = image;
  }
  return { kubelet: v1.machine?.kubelet?.image, proxy: v1.cluster?.proxy?.image, pods };
}

/** After a config change on `node`: each static pod whose image changed restarts for `reads` status reads. */
export function restartChangedPods(node: SimNode, before: string, after: string, reads: number): void {
  const a = k8sImages(before).pods;
  const b = k8sImages(after).pods;
  for (const pod of Object.keys(STATIC_PODS) as Array<keyof typeof STATIC_PODS>) {
    if (a[pod] !== b[pod]) (node.podRestarts ??= new Map()).set(pod, { left: reads, image: a[pod] ?? "" });
  }
}

/** The Kubernetes images of `node`'s current config, parsed once per config text (every COSI read needs them). */
const parsed = new WeakMap<SimNode, { text: string; images: K8sImages }>();
export function nodeK8sImages(node: SimNode): K8sImages {
  let p = parsed.get(node);
  if (p?.text !== node.machineConfig) {
    parsed.set(node, p = { text: node.machineConfig, images: k8sImages(node.machineConfig) });
  }
  return p.images;
}

/** A static pod's PodStatus now: Pending on its old image while it restarts. Pure: see podStatusRead. */
export function staticPodStatus(node: SimNode, pod: keyof typeof STATIC_PODS, image: string): unknown {
  const restart = node.podRestarts?.get(pod);
  if (restart && restart.left > 0) {
    return {
      phase: "Pending",
      conditions: [{ type: "Ready", status: "False" }],
      containerStatuses: [{ name: pod, image: restart.image, ready: false, state: { waiting: {} } }],
    };
  }
  return {
    phase: "Running",
    conditions: [{ type: "Ready", status: "True" }],
    containerStatuses: [{ name: pod, image, ready: true, state: { running: {} } }],
  };
}

/**
 * A client read the StaticPodStatus resource `id` of `node` (COSI Get or List of that type): a restarting
 * pod is one read closer to running. Only reads of the pod's own status count, not every COSI call.
 */
export function podStatusRead(node: SimNode, id: string): void {
  for (const [pod, restart] of node.podRestarts ?? []) {
    if (id !== `kube-system/${pod}-${node.hostname}`) continue;
    if (--restart.left <= 0) node.podRestarts!.delete(pod);
  }
}
