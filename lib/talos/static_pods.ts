/**
 * @module Waiting for a control-plane static pod after its config changed: the StaticPodStatus resource
 * (k8s namespace, id kube-system/<pod>-<nodename>) must report the pod Running and Ready with the new image.
 * The kubelet recreates the pod, so for a while it reports the old one, or Pending.
 */
import { ToolError } from "../errors.ts";
import { pause } from "./boot.ts";
import { getResource } from "./cosi.ts";
import type { TalosSession } from "./session.ts";

interface PodStatus {
  phase?: string;
  conditions?: Array<{ type?: string; status?: string }>;
  containerStatuses?: Array<{ image?: string; ready?: boolean }>;
}

/** What still keeps the pod from counting as back with `image`; undefined once it is. */
function podNotBack(status: PodStatus, image: string): string | undefined {
  if (status.phase !== "Running") return `phase ${status.phase ?? "unknown"}`;
  if (!status.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return "not Ready";
  const images = (status.containerStatuses ?? []).map((c) => c.image ?? "");
  // The kubelet may report the resolved reference (docker.io/… or with a digest): compare by suffix.
  if (!images.some((i) => i === image || i.endsWith(`/${image}`) || i.startsWith(`${image}@`))) {
    return `still running ${images.join(", ") || "no container"}`;
  }
  return undefined;
}

export interface PodWait {
  pollMs: number;
  deadline: number;
  signal: AbortSignal;
  onPoll?: (why: string) => void;
}

/** Polls the static pod `pod` of `node` (named `nodename` in Kubernetes) until it runs `image`, bounded. */
export async function waitForStaticPod(
  session: TalosSession,
  node: string,
  nodename: string,
  pod: string,
  image: string,
  o: PodWait,
): Promise<void> {
  const id = `kube-system/${pod}-${nodename}`;
  let why = "no status yet";
  for (;;) {
    try {
      const res = await getResource(session, node, "k8s", "StaticPodStatuses.kubernetes.talos.dev", id, o.signal);
      const spec = (res.spec ?? {}) as PodStatus & { podStatus?: PodStatus };
      const not = podNotBack(spec.podStatus ?? spec, image);
      if (!not) return;
      why = not;
    } catch (err) {
      if (o.signal.aborted) throw err;
      why = err instanceof ToolError ? err.message : String(err);
    }
    o.onPoll?.(why);
    if (Date.now() + o.pollMs > o.deadline) {
      throw new ToolError(
        `${pod} on ${node} did not come back with ${image} before the deadline (TALOS_MCP_WAIT_TIMEOUT_MS): ` +
          `${why}. Check talos_logs (the kubelet) and talos_containers on ${node}; the config already names the ` +
          `new image.`,
        "DEADLINE_EXCEEDED",
      );
    }
    await pause(o.pollMs, o.signal);
  }
}
