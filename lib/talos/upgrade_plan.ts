/**
 * @module The rolling Talos upgrade plan, shared by talos_upgrade_plan (which shows it) and
 * talos_upgrade_cluster (which runs it): one minor version per stage, control planes one at a time
 * (etcd leader last), then workers in batches; nodes already past a stage are left out of it, so a plan
 * computed again after a partial run resumes where that run stopped. Pure except for the etcd reads.
 */
import { ToolError } from "../errors.ts";
import { etcdView, memberFor } from "./etcd_health.ts";
import { getResource } from "./cosi.ts";
import { versionTag } from "./node_versions.ts";
import type { TalosSession } from "./session.ts";
import { checkUpgradePath, minorSteps, parseTalosVersion, usesLifecycleUpgrade } from "./versions.ts";

const DEFAULT_INSTALLER = "ghcr.io/siderolabs/installer";

export interface NodeFacts {
  node: string;
  hostname?: string;
  version?: string;
  role?: string;
  error?: string;
}

export interface PlanStep {
  step: number;
  action: "check" | "upgrade" | "gate";
  nodes?: string[];
  to?: string;
  image?: string;
  how?: string;
  detail: string;
}

/** One minor version of the path: the image to install and the nodes still below it, in order. */
export interface Stage {
  /** The version this stage reaches (e.g. v1.14.2, or "v1.13.x (latest patch)" when not pinned). */
  to: string;
  image: string;
  /** Whether `image` names a real tag (the last stage, or an intermediate one given with `via`). */
  pinned: boolean;
  controlPlanes: NodeFacts[];
  workerBatches: NodeFacts[][];
}

export interface UpgradePlan {
  target: string;
  current: Record<string, string[]>;
  path: string[];
  blockers: string[];
  warnings: string[];
  steps: PlanStep[];
  stages: Stage[];
}

/** Splits a reference into repository and tag (`repo:tag`, digests kept whole). */
function repoOf(image: string): string {
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  return colon > slash ? image.slice(0, colon) : image;
}

/** The installer reference of a call given exactly one of a version or an image. */
export function targetRefOf(version?: string, image?: string): string {
  if (!version === !image) {
    throw new ToolError(
      "Pass exactly one of version (e.g. v1.14.2) or image (an installer image with a tag).",
      "INVALID_ARGUMENT",
    );
  }
  const ref = image ?? `${DEFAULT_INSTALLER}:${version!.startsWith("v") ? "" : "v"}${version}`;
  if (!parseTalosVersion(ref)) {
    throw new ToolError(
      `Cannot read a Talos version from "${ref}"; use a tag like v1.14.2 (digests and :latest cannot be planned).`,
      "INVALID_ARGUMENT",
    );
  }
  return ref;
}

/** A node's Talos version and machine type (controlplane, worker), asked of the node. */
export async function nodeFacts(s: TalosSession, node: string, signal: AbortSignal) {
  const [version, role] = await Promise.all([
    versionTag(s, node, signal),
    getResource(s, node, "config", "MachineTypes.config.talos.dev", "machine-type", signal),
  ]);
  return { version, role: String(role.spec ?? "").trim() };
}

/** etcd's leader (hostname) and what stands in the way, asked of the first control plane. */
async function etcdFacts(
  session: TalosSession,
  cps: readonly NodeFacts[],
  signal: AbortSignal,
): Promise<{ leader?: string; members?: number; blockers: string[]; warnings: string[] }> {
  const blockers: string[] = [];
  const warnings: string[] = [];
  if (!cps.length) return { blockers, warnings };
  const name = (f: NodeFacts) => f.hostname ? `${f.node} (${f.hostname})` : f.node;
  try {
    // Any control plane that answers (each asked with a deadline), the members' own status for the leader.
    const view = await etcdView(session, cps.map((c) => c.node), signal, cps.map((c) => c.node));
    const leader = view.members.find((m) => m.id === view.leader)?.hostname;
    if (!view.leader) blockers.push("etcd has no leader; restore quorum before upgrading");
    const total = view.members.length;
    if (total - 1 < Math.floor(total / 2) + 1) {
      warnings.push(
        `etcd has ${total} member(s): taking one down for its upgrade loses quorum until it is back; ` +
          `the Kubernetes API is unavailable meanwhile`,
      );
    }
    const unknownCp = cps.filter((c) => !memberFor(view, c.node, c.hostname));
    if (unknownCp.length && total) warnings.push(`not etcd members: ${unknownCp.map(name).join(", ")}`);
    return { leader, members: total, blockers, warnings };
  } catch (err) {
    blockers.push(`etcd state unknown (${err instanceof ToolError ? err.message.split(". ")[0] : String(err)})`);
    return { blockers, warnings };
  }
}

export interface PlanOptions {
  /** Workers per batch; default a quarter of them. */
  batch?: number;
  /** Installer images (or version tags) for the intermediate minors, e.g. ["v1.13.9"]. */
  via?: readonly string[];
}

/**
 * The plan for `facts` (every targeted node; those with an error block it) towards `targetRef`.
 * `etcd` is what etcdFacts found (leader, blockers, warnings), merged in.
 */
function planUpgrade(
  facts: readonly NodeFacts[],
  targetRef: string,
  etcd: { leader?: string; members?: number; blockers: string[]; warnings: string[] },
  o: PlanOptions = {},
): UpgradePlan {
  const target = parseTalosVersion(targetRef)!;
  const repo = repoOf(targetRef);
  const blockers: string[] = [];
  const warnings: string[] = [];
  for (const f of facts.filter((f) => f.error)) {
    blockers.push(`${f.node} did not answer (${f.error}); plan once every node is reachable`);
  }
  const ok = facts.filter((f) => !f.error && f.version);
  const name = (f: NodeFacts) => f.hostname ? `${f.node} (${f.hostname})` : f.node;
  const current: Record<string, string[]> = {};
  for (const f of ok) (current[f.version!] ??= []).push(f.node);
  if (Object.keys(current).length > 1) {
    warnings.push("nodes run different versions; finish any upgrade in progress first");
  }
  blockers.push(...etcd.blockers);
  warnings.push(...etcd.warnings);

  // etcd: leader last (one election instead of several).
  const cps = ok.filter((f) => f.role === "controlplane" || f.role === "init");
  const workers = ok.filter((f) => f.role === "worker");
  const leader = etcd.leader;
  cps.sort((a, b) => Number(a.hostname === leader) - Number(b.hostname === leader));

  // The minor versions to pass through, from the oldest node.
  const oldest = ok.map((f) => parseTalosVersion(f.version!)).filter((x) => !!x)
    .sort((a, b) => a!.minor - b!.minor || a!.patch - b!.patch)[0];
  if (!oldest) {
    throw new ToolError(
      `No node reported a Talos version; nothing to plan. ${blockers.join("; ") || "No node was targeted."}`,
      "UNAVAILABLE",
    );
  }
  const check = checkUpgradePath(oldest.raw, targetRef);
  // A multi-minor jump is what the plan is for (one step per minor); a major crossing is not plannable.
  if (check.kind === "rejected" && !check.path.length) {
    blockers.push(check.reason);
    return { target: targetRef, current, path: [], blockers, warnings, steps: [], stages: [] };
  }
  if (target.minor < oldest.minor) {
    warnings.push("this is a downgrade; Talos supports rolling back one minor version at most");
  }
  const path = target.minor === oldest.minor
    ? [`v${target.major}.${target.minor}.${target.patch}`]
    : minorSteps(oldest, target);

  const steps: PlanStep[] = [];
  const stages: Stage[] = [];
  const add = (s: Omit<PlanStep, "step">) => steps.push({ step: steps.length + 1, ...s });
  add({
    action: "check",
    nodes: ok.map((f) => f.node),
    detail: "Before starting: every node healthy (talos_node_summary), etcd all members healthy with a leader, " +
      "and a fresh etcd snapshot (talos_etcd_snapshot).",
  });
  const batch = o.batch ?? Math.max(1, Math.ceil(workers.length / 4));
  // The members etcd reports, not the control planes targeted: a plan for some of them still waits for all.
  const quorumGate = `etcd has all ${etcd.members ?? cps.length} members healthy and a leader`;
  for (const stepTo of path) {
    const final = stepTo === path[path.length - 1];
    const stepMinor = Number(/^v\d+\.(\d+)/.exec(stepTo)?.[1]);
    const given = final ? undefined : viaFor(o.via ?? [], repo, target.major, stepMinor);
    const to = given ? `v${parseTalosVersion(given)!.raw.replace(/^v/, "")}` : stepTo;
    const image = final
      ? targetRef
      : given ?? `${repo}:${stepTo.replace(/ \(latest patch\)$/, "").replace(/\.x$/, ".<latest patch>")}`;
    // Skip nodes already past this step, and on the last step those already at the target.
    const pending = (f: NodeFacts) => {
      const at = parseTalosVersion(f.version!);
      if (!at) return true;
      if (final) return !(at.minor === target.minor && at.patch === target.patch);
      return at.minor < stepMinor;
    };
    const how = (f: NodeFacts) =>
      usesLifecycleUpgrade(f.version!)
        ? "ImageService.Pull, LifecycleService.Upgrade, then Reboot"
        : "MachineService.Upgrade (reboots itself)";
    const stage: Stage = { to, image, pinned: final || !!given, controlPlanes: [], workerBatches: [] };
    for (const cp of cps.filter(pending)) {
      stage.controlPlanes.push(cp);
      add({
        action: "upgrade",
        nodes: [cp.node],
        to,
        image,
        how: how(cp),
        detail: `control plane ${name(cp)}${cp.hostname === leader ? " (etcd leader: last)" : ""}`,
      });
      add({
        action: "gate",
        nodes: [cp.node],
        detail: `wait until ${cp.node} runs ${
          to.split(" ")[0]
        }, its services are healthy and ${quorumGate}; stop here otherwise`,
      });
    }
    const ws = workers.filter(pending);
    for (let i = 0; i < ws.length; i += batch) {
      const group = ws.slice(i, i + batch);
      stage.workerBatches.push(group);
      add({
        action: "upgrade",
        nodes: group.map((w) => w.node),
        to,
        image,
        how: how(group[0]),
        detail: `workers, batch ${i / batch + 1}`,
      });
      add({
        action: "gate",
        nodes: group.map((w) => w.node),
        detail: "wait until these nodes are back, Ready and their services healthy",
      });
    }
    if (stage.controlPlanes.length || stage.workerBatches.length) stages.push(stage);
  }
  if (steps.length === 1) warnings.push(`every node already runs ${target.raw}; nothing to upgrade`);
  return { target: targetRef, current, path, blockers, warnings, steps, stages };
}

/** The `via` entry for minor `minor` as an installer reference (a bare tag takes the target's repository). */
function viaFor(via: readonly string[], repo: string, major: number, minor: number): string | undefined {
  for (const v of via) {
    const p = parseTalosVersion(v);
    if (p && p.major === major && p.minor === minor) return v.includes(":") ? v : `${repo}:v${v.replace(/^v/, "")}`;
  }
  return undefined;
}

/**
 * The plan from each node's facts as read now: the control planes among them asked about etcd, then
 * planUpgrade. What talos_upgrade_plan shows and talos_upgrade_cluster runs.
 */
export async function planFromFacts(
  session: TalosSession,
  facts: readonly NodeFacts[],
  targetRef: string,
  opts: PlanOptions,
  signal: AbortSignal,
): Promise<UpgradePlan> {
  const cps = facts.filter((f) => !f.error && f.version && (f.role === "controlplane" || f.role === "init"));
  return planUpgrade([...facts], targetRef, await etcdFacts(session, cps, signal), opts);
}
