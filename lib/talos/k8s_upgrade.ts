/**
 * @module Upgrading Kubernetes on Talos as `talosctl upgrade-k8s` does, through the machine configs: the
 * version skew rules checked first, then the changes in order — for each control-plane component
 * (kube-apiserver, kube-controller-manager, kube-scheduler) every control plane one at a time, then
 * kube-proxy, then every node's kubelet. Each change is one image in the config, applied without a reboot;
 * Talos then restarts the static pod (or kubelet), which is awaited before the next change.
 */
import { stringify } from "yaml";
import { applyPatch } from "./config_patch.ts";
import { parseTalosVersion } from "./versions.ts";

/** Kubernetes minors each Talos minor supports (Talos' compatibility table). */
const SUPPORTED: Record<number, [number, number]> = {
  10: [28, 33],
  11: [29, 34],
  12: [30, 35],
  13: [31, 36],
  14: [32, 37],
};

export type Component = "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kube-proxy" | "kubelet";

/** Where each component's image lives in the v1alpha1 document. */
const PATH: Record<Component, [string, string]> = {
  "kube-apiserver": ["cluster", "apiServer"],
  "kube-controller-manager": ["cluster", "controllerManager"],
  "kube-scheduler": ["cluster", "scheduler"],
  "kube-proxy": ["cluster", "proxy"],
  kubelet: ["machine", "kubelet"],
};

/** Images when the config names none (Talos' defaults). */
const DEFAULT_REPO: Record<Component, string> = {
  "kube-apiserver": "registry.k8s.io/kube-apiserver",
  "kube-controller-manager": "registry.k8s.io/kube-controller-manager",
  "kube-scheduler": "registry.k8s.io/kube-scheduler",
  "kube-proxy": "registry.k8s.io/kube-proxy",
  kubelet: "ghcr.io/siderolabs/kubelet",
};

export const CONTROL_PLANE_PODS: readonly Component[] = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];

/** A node as the upgrade sees it: its role, Talos version and machine config documents. */
export interface K8sNode {
  node: string;
  hostname?: string;
  role: string;
  talos: string;
  docs: unknown[];
}

export interface Change {
  node: string;
  component: Component;
  from: string;
  to: string;
}

const v1alpha1 = (docs: readonly unknown[]) =>
  docs.find((d) =>
    !!d && typeof d === "object" && (d as { version?: string }).version === "v1alpha1" &&
    !("kind" in d)
  ) as Record<string, Record<string, { image?: string }>> | undefined;

/** The image `component` runs on a node according to its config ("" when the config does not say). */
export function imageOf(docs: readonly unknown[], component: Component): string {
  const [a, b] = PATH[component];
  return v1alpha1(docs)?.[a]?.[b]?.image ?? "";
}

/** The Kubernetes version tag of an image (`registry.k8s.io/kube-apiserver:v1.34.1` → v1.34.1). */
export function tagOf(image: string): string {
  const colon = image.lastIndexOf(":");
  return colon > image.lastIndexOf("/") ? image.slice(colon + 1) : "";
}

const minorOf = (tag: string) => parseTalosVersion(tag)?.minor;

/** The image of `component` at `to`, in the repository the node uses now (a mirror stays a mirror). */
function imageAt(current: string, component: Component, to: string): string {
  const colon = current.lastIndexOf(":");
  const repo = current && colon > current.lastIndexOf("/")
    ? current.slice(0, colon)
    : current || DEFAULT_REPO[component];
  return `${repo}:${to}`;
}

/** A merge patch setting one component's image. */
export function imagePatch(component: Component, image: string): string {
  const [a, b] = PATH[component];
  return stringify({ [a]: { [b]: { image } } });
}

const isCp = (n: K8sNode) => n.role === "controlplane" || n.role === "init";

/**
 * Why the upgrade to `to` must not start (the skew rules), or []. `from` is the API server's version now.
 * Kubernetes moves one minor at a time, control plane first; no kubelet may be newer than the API server;
 * every node's Talos version must support the target.
 */
export function skewBlockers(nodes: readonly K8sNode[], from: string, to: string): string[] {
  const out: string[] = [];
  const a = parseTalosVersion(from);
  const b = parseTalosVersion(to);
  if (!a || !b) return [`cannot compare Kubernetes versions "${from}" and "${to}"; use tags like v1.35.0`];
  if (b.minor < a.minor || (b.minor === a.minor && b.patch < a.patch)) {
    out.push(`${to} is older than the API server's ${from}; Kubernetes does not support downgrades`);
  } else if (b.minor - a.minor > 1) {
    out.push(
      `${from} → ${to} skips ${b.minor - a.minor - 1} minor version(s); Kubernetes upgrades one minor at a time ` +
        `(go to v${a.major}.${a.minor + 1}.x first)`,
    );
  }
  for (const n of nodes) {
    const kubelet = tagOf(imageOf(n.docs, "kubelet"));
    const km = minorOf(kubelet);
    if (km !== undefined && km > a.minor) {
      out.push(`kubelet on ${n.node} runs ${kubelet}, newer than the API server's ${from}: fix that skew first`);
    }
    const t = parseTalosVersion(n.talos);
    const range = t ? SUPPORTED[t.minor] : undefined;
    if (range && (b.minor < range[0] || b.minor > range[1])) {
      out.push(
        `${n.node} runs Talos ${n.talos}, which supports Kubernetes 1.${range[0]} to 1.${range[1]}, not ${to}; ` +
          `upgrade Talos first`,
      );
    }
  }
  if (!nodes.some(isCp)) out.push("no control-plane node among the targets: the API server's version is unknown");
  return out;
}

/** Every change the upgrade makes, in the order it makes them; those already at `to` are left out. */
export function k8sChanges(nodes: readonly K8sNode[], to: string): Change[] {
  const cps = nodes.filter(isCp);
  const out: Change[] = [];
  const add = (n: K8sNode, component: Component) => {
    const from = imageOf(n.docs, component);
    const image = imageAt(from, component, to);
    if (from !== image) out.push({ node: n.node, component, from, to: image });
  };
  for (const c of CONTROL_PLANE_PODS) for (const n of cps) add(n, c);
  for (const n of cps) add(n, "kube-proxy");
  for (const n of [...cps, ...nodes.filter((n) => !isCp(n))]) add(n, "kubelet");
  return out;
}

/**
 * The config `docs` becomes once the upgrade to `to` is done on its node (its role from machine.type): what a
 * policy's config-path rules judge, as for any tool that changes a config.
 */
export function configAfterUpgrade(docs: readonly unknown[], to: string): unknown[] {
  const role = String((v1alpha1(docs) as { machine?: { type?: string } } | undefined)?.machine?.type ?? "worker");
  let out = [...docs];
  for (const c of k8sChanges([{ node: "", role, talos: "", docs: out }], to)) {
    out = applyPatch(out, imagePatch(c.component, c.to)).docs;
  }
  return out;
}
