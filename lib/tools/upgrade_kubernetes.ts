/**
 * @module talos_upgrade_kubernetes: upgrade Kubernetes as `talosctl upgrade-k8s` does, through the machine
 * configs (lib/talos/k8s_upgrade.ts): skew rules first, then one image per ApplyConfiguration (no
 * reboot), each awaited — the static pod back with the new image, or kubelet healthy — before the next.
 * Dry run by default: the diff each node would get. Changes already made are skipped, so a new call resumes.
 */
import * as v from "valibot";
import { stringify } from "yaml";
import { ToolError } from "../errors.ts";
import { maskText } from "../secrets.ts";
import { applyConfiguration } from "../talos/apply_config.ts";
import { applyPatch } from "../talos/config_patch.ts";
import { getResource } from "../talos/cosi.ts";
import { fanOut } from "../talos/fan_out.ts";
import {
  type Change,
  configAfterUpgrade,
  CONTROL_PLANE_PODS,
  imageOf,
  imagePatch,
  k8sChanges,
  type K8sNode,
  skewBlockers,
  tagOf,
} from "../talos/k8s_upgrade.ts";
import { nodeFacts } from "../talos/upgrade_plan.ts";
import { waitForReady } from "../talos/node_ready.ts";
import { waitForStaticPod } from "../talos/static_pods.ts";
import { type TalosSession, targetNodes } from "../talos/session.ts";
import { defineTool, MUTATING, type ToolContext } from "./define.ts";
import { context, nodes } from "./params.ts";

const input = {
  context,
  nodes,
  version: v.pipe(
    v.string(),
    v.regex(/^v?\d+\.\d+\.\d+$/, "a Kubernetes version like v1.35.0"),
    v.description("Target Kubernetes version, e.g. v1.35.0."),
  ),
  dry_run: v.optional(v.pipe(v.boolean(), v.description("Only show each node's diff (default true).")), true),
};

type K8sArgs = v.InferOutput<v.StrictObjectSchema<typeof input, undefined>>;

const change = v.object({
  node: v.string(),
  component: v.string(),
  from: v.string(),
  to: v.string(),
  status: v.picklist(["planned", "done", "failed", "not reached"]),
});

export const upgradeK8sTool = defineTool({
  name: "talos_upgrade_kubernetes",
  title: "Upgrade: Kubernetes",
  description: "Upgrade Kubernetes like talosctl upgrade-k8s, through the machine configs: checks version skew, " +
    "then apiserver, controller-manager, scheduler on each control plane (awaiting each static pod), kube-proxy, " +
    "each kubelet; stops at the first failure. Dry run by default (nodes default to the context's): every " +
    "node's config diff. A run needs explicit nodes, confirm: true and os:admin.",
  annotations: MUTATING,
  risk: "change",
  confirm: true,
  dryRunAllNodes: true,
  rpcs: ["/machine.MachineService/ApplyConfiguration"],
  input,
  output: {
    from: v.string(),
    to: v.string(),
    blockers: v.array(v.string()),
    changes: v.array(change),
    diffs: v.optional(v.array(v.object({ node: v.string(), diff: v.string() }))),
    stopped: v.optional(v.string()),
  },
  dryRun: (a) => a.dry_run !== false,
  // Image changes in the machine configs: the policy's denied config paths apply to them too.
  configAfter: (a, current) => configAfterUpgrade(current, `v${a.version.replace(/^v/, "")}`),
  action: (a) => `upgrade Kubernetes to ${a.version}: one image at a time in the machine configs, no reboot.`,
  run: (args, ctx) => runK8s(args, ctx),
});

async function runK8s(args: K8sArgs, ctx: ToolContext): Promise<Record<string, unknown>> {
  const to = `v${args.version.replace(/^v/, "")}`;
  const session = await ctx.session(args.context);
  const targets = targetNodes(session.ctx, args.nodes);
  const nodes = await readNodes(session, targets, ctx);
  const cp = nodes.find((n) => n.role === "controlplane" || n.role === "init");
  const from = cp ? tagOf(imageOf(cp.docs, "kube-apiserver")) : "";
  const blockers = skewBlockers(nodes, from, to);
  const changes = k8sChanges(nodes, to);
  const shown = (c: Change, status: string) => ({ ...c, status });
  if (args.dry_run) {
    const diffs = blockers.length ? [] : await dryRunDiffs(session, nodes, changes, ctx);
    return { from, to, blockers, changes: changes.map((c) => shown(c, "planned")), diffs };
  }
  if (blockers.length) {
    throw new ToolError(`Not started: ${blockers.join("; ")}. Nothing was changed.`, "FAILED_PRECONDITION");
  }
  const deadline = Date.now() + ctx.config.waitTimeoutMs;
  const statuses: string[] = changes.map(() => "not reached");
  let stopped: string | undefined;
  for (const [i, c] of changes.entries()) {
    const note = (m: string) => void ctx.progress(i, changes.length, m);
    note(`${c.node}: ${c.component} → ${c.to}`);
    try {
      await applyOne(session, c, nodes.find((n) => n.node === c.node)!, { deadline, note }, ctx);
      statuses[i] = "done";
    } catch (err) {
      if (ctx.signal.aborted || !(err instanceof ToolError)) throw err;
      statuses[i] = "failed";
      stopped = `Stopped at ${c.component} on ${c.node}: ${err.message} Fix it, then call again: done changes ` +
        `are skipped.`;
      break;
    }
  }
  return { from, to, blockers, changes: changes.map((c, i) => shown(c, statuses[i])), ...(stopped ? { stopped } : {}) };
}

/** Each target's role, Talos version, machine config and (control planes) Kubernetes node name; all must answer. */
async function readNodes(session: TalosSession, targets: string[], ctx: ToolContext): Promise<K8sNode[]> {
  const outcomes = await fanOut(targets, ctx.config.fanOutConcurrency, async (node): Promise<K8sNode> => {
    const [facts, config, host] = await Promise.all([
      nodeFacts(session, node, ctx.signal),
      getResource(session, node, "config", "MachineConfigs.config.talos.dev", "v1alpha1", ctx.signal),
      session.api.machine.Hostname({}, { node, signal: ctx.signal }),
    ]);
    const hostname = host.messages?.[0]?.hostname ?? node;
    return { node, hostname, role: facts.role, talos: facts.version, docs: config.spec as unknown[] };
  });
  const failed = outcomes.filter((o) => o.error !== undefined);
  if (failed.length) {
    throw new ToolError(
      `Every targeted node must answer before a Kubernetes upgrade: ${
        failed.map((f) => `${f.node} (${f.error})`).join("; ")
      }. Nothing was changed.`,
      failed[0].code,
    );
  }
  return outcomes.map((o) => o.value!);
}

const render = (docs: unknown[]) => Buffer.from(docs.map((d) => stringify(d)).join("---\n"));

/** Each node's whole change, as the diff the node computes in a dry run (secrets masked). */
async function dryRunDiffs(session: TalosSession, nodes: K8sNode[], changes: Change[], ctx: ToolContext) {
  const touched = nodes.filter((n) => changes.some((c) => c.node === n.node));
  const outcomes = await fanOut(touched.map((n) => n.node), ctx.config.fanOutConcurrency, async (node) => {
    let docs = touched.find((n) => n.node === node)!.docs;
    for (const c of changes.filter((c) => c.node === node)) docs = applyPatch(docs, imagePatch(c.component, c.to)).docs;
    const res = await applyConfiguration(session, node, render(docs), "no-reboot", true, ctx.signal);
    const details = res.messages?.[0]?.mode_details ?? "";
    return ctx.config.showSecrets ? details : maskText(details);
  });
  return outcomes.map((o) => ({ node: o.node, diff: o.value ?? `dry run failed: ${o.error}` }));
}

/** One image change: the node's current config with the new image, applied without a reboot, then awaited. */
async function applyOne(
  session: TalosSession,
  c: Change,
  n: K8sNode,
  o: { deadline: number; note: (m: string) => void },
  ctx: ToolContext,
): Promise<void> {
  // Read again: the config may have changed since the plan (an earlier change of this call, or someone else).
  const current = await getResource(
    session,
    c.node,
    "config",
    "MachineConfigs.config.talos.dev",
    "v1alpha1",
    ctx.signal,
  );
  const { docs } = applyPatch(current.spec as unknown[], imagePatch(c.component, c.to));
  await applyConfiguration(session, c.node, render(docs), "no-reboot", false, ctx.signal);
  const wait = { pollMs: ctx.config.pollIntervalMs, deadline: o.deadline, signal: ctx.signal };
  if ((CONTROL_PLANE_PODS as string[]).includes(c.component)) {
    await waitForStaticPod(session, c.node, n.hostname ?? c.node, c.component, c.to, {
      ...wait,
      onPoll: (why) => o.note(`${c.node}: waiting for ${c.component} (${why})`),
    });
  } else if (c.component === "kubelet") {
    await waitForReady(session, c.node, { ...wait, onPoll: (w) => o.note(`${c.node}: waiting for ${w}`) });
  }
  // kube-proxy is a DaemonSet Talos rolls out from the control planes' manifests: nothing on the node to await.
}
