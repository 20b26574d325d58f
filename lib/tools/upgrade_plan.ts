/**
 * @module talos_upgrade_plan: the ordered steps of a rolling upgrade — one
 * minor version per step, control planes one at a time (etcd leader last)
 * with health and quorum gates, then workers in batches. Executes nothing.
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { getResource } from "../talos/cosi.ts";
import { versionTag } from "../talos/node_versions.ts";
import { checkUpgradePath, minorSteps, parseTalosVersion, usesLifecycleUpgrade } from "../talos/versions.ts";
import { CLUSTER_VIEW_URI } from "../apps/view.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { context, nodes } from "./params.ts";
import { perNode } from "./per_node.ts";

const DEFAULT_INSTALLER = "ghcr.io/siderolabs/installer";

interface NodeFacts {
  node: string;
  hostname?: string;
  version?: string;
  role?: string;
  error?: string;
}

const step = v.object({
  step: v.number(),
  action: v.picklist(["check", "upgrade", "gate"]),
  nodes: v.optional(v.array(v.string())),
  to: v.optional(v.string()),
  image: v.optional(v.string()),
  how: v.optional(v.string()),
  detail: v.string(),
});

/** Splits a reference into repository and tag (`repo:tag`, digests kept whole). */
function repoOf(image: string): string {
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  return colon > slash ? image.slice(0, colon) : image;
}

export const upgradePlanTool = defineTool({
  name: "talos_upgrade_plan",
  title: "Upgrade: plan",
  description: "Plan a rolling Talos upgrade without running it: one minor version per step, control " +
    "planes one at a time (etcd leader last) with health and quorum gates, workers in batches. Use before " +
    "talos_upgrade; sends only reads.",
  annotations: READ_ONLY,
  view: CLUSTER_VIEW_URI,
  input: {
    context,
    nodes,
    version: v.optional(v.pipe(v.string(), v.maxLength(64), v.description("Target Talos version, e.g. v1.14.2."))),
    image: v.optional(
      v.pipe(
        v.string(),
        v.maxLength(512),
        v.description("Installer image with a version tag, e.g. factory.talos.dev/metal-installer/<id>:v1.14.2."),
      ),
    ),
    worker_batch: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64), v.description("Workers per batch (default ¼).")),
    ),
  },
  output: {
    target: v.string(),
    current: v.record(v.string(), v.array(v.string())),
    path: v.array(v.string()),
    blockers: v.array(v.string()),
    warnings: v.array(v.string()),
    steps: v.array(step),
  },
  run: async (args, ctx) => {
    if (!args.version === !args.image) {
      throw new ToolError(
        "Pass exactly one of version (e.g. v1.14.2) or image (an installer image with a tag).",
        "INVALID_ARGUMENT",
      );
    }
    const targetRef = args.image ?? `${DEFAULT_INSTALLER}:${args.version!.startsWith("v") ? "" : "v"}${args.version}`;
    const target = parseTalosVersion(targetRef);
    if (!target) {
      throw new ToolError(
        `Cannot read a Talos version from "${targetRef}"; use a tag like v1.14.2 (digests and :latest cannot be planned).`,
        "INVALID_ARGUMENT",
      );
    }
    const repo = repoOf(targetRef);
    const session = await ctx.session(args.context);
    const facts = await perNode(ctx, args, async (s, node) => {
      const [ver, role] = await Promise.all([
        versionTag(s, node, ctx.signal),
        getResource(s, node, "config", "MachineTypes.config.talos.dev", "machine-type", ctx.signal),
      ]);
      return { version: ver, role: String(role.spec ?? "").trim() };
    });
    const all = facts.nodes as NodeFacts[];
    const blockers: string[] = [];
    const warnings: string[] = [];
    for (const f of all.filter((f) => f.error)) {
      blockers.push(`${f.node} did not answer (${f.error}); plan once every node is reachable`);
    }
    const ok = all.filter((f) => !f.error && f.version);
    const name = (f: NodeFacts) => f.hostname ? `${f.node} (${f.hostname})` : f.node;
    const current: Record<string, string[]> = {};
    for (const f of ok) (current[f.version!] ??= []).push(f.node);
    if (Object.keys(current).length > 1) {
      warnings.push("nodes run different versions; finish any upgrade in progress first");
    }

    // etcd: leader last (one election instead of several), and a quorum check before anything moves.
    const cps = ok.filter((f) => f.role === "controlplane" || f.role === "init");
    const workers = ok.filter((f) => f.role === "worker");
    let leader: string | undefined;
    if (cps.length) {
      const node = cps[0].node;
      try {
        const [members, status] = await Promise.all([
          session.api.machine.EtcdMemberList(
            {},
            { node, signal: ctx.signal },
          ),
          session.api.machine.EtcdStatus(
            {},
            { node, signal: ctx.signal },
          ),
        ]);
        const list = members.messages?.[0]?.members ?? [];
        const leaderId = status.messages?.[0]?.member_status?.leader;
        leader = list.find((m) => m.id === leaderId)?.hostname;
        if (!leaderId || leaderId === "0") blockers.push("etcd has no leader; restore quorum before upgrading");
        const quorum = Math.floor(list.length / 2) + 1;
        if (list.length - 1 < quorum) {
          warnings.push(
            `etcd has ${list.length} member(s): taking one down for its upgrade loses quorum until it is back; ` +
              `the Kubernetes API is unavailable meanwhile`,
          );
        }
        const unknownCp = cps.filter((c) => !list.some((m) => m.hostname === c.hostname));
        if (unknownCp.length && list.length) warnings.push(`not etcd members: ${unknownCp.map(name).join(", ")}`);
      } catch (err) {
        blockers.push(`etcd state unknown (${err instanceof ToolError ? err.message.split(". ")[0] : String(err)})`);
      }
    }
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
      return { target: targetRef, current, path: [], blockers, warnings, steps: [] };
    }
    if (target.minor < oldest.minor) {
      warnings.push("this is a downgrade; Talos supports rolling back one minor version at most");
    }
    const path = target.minor === oldest.minor
      ? [`v${target.major}.${target.minor}.${target.patch}`]
      : minorSteps(oldest, target);

    const steps: v.InferOutput<typeof step>[] = [];
    const add = (s: Omit<v.InferOutput<typeof step>, "step">) => steps.push({ step: steps.length + 1, ...s });
    add({
      action: "check",
      nodes: ok.map((f) => f.node),
      detail: "Before starting: every node healthy (talos_node_summary), etcd all members healthy with a leader, " +
        "and a fresh etcd snapshot (talos_etcd_snapshot).",
    });
    const batch = args.worker_batch ?? Math.max(1, Math.ceil(workers.length / 4));
    const quorumGate = `etcd has all ${cps.length} members healthy and a leader`;
    for (const to of path) {
      const final = to === path[path.length - 1];
      const image = final
        ? targetRef
        : `${repo}:${to.replace(/ \(latest patch\)$/, "").replace(/\.x$/, ".<latest patch>")}`;
      const stepMinor = Number(/^v\d+\.(\d+)/.exec(to)?.[1]);
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
      for (const cp of cps.filter(pending)) {
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
    }
    if (steps.length === 1) warnings.push(`every node already runs ${target.raw}; nothing to upgrade`);
    return { target: targetRef, current, path, blockers, warnings, steps };
  },
});
