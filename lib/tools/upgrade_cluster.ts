/**
 * @module talos_upgrade_cluster: runs the plan talos_upgrade_plan shows (lib/talos/upgrade_plan.ts), one
 * minor version per stage: control planes one at a time (etcd leader last), each gated on etcd and on the
 * previous one being back, on the new version and ready; then workers in batches. Stops at the first
 * failure. Keeps no state: a second call re-reads the versions and resumes where the first stopped.
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { etcdGate } from "../talos/etcd_gate.ts";
import { fanOut, type NodeOutcome } from "../talos/fan_out.ts";
import { learnHostnames } from "../talos/hostnames.ts";
import { type TalosSession, targetNodes } from "../talos/session.ts";
import { UPGRADE_RPCS, upgradeAndWait } from "../talos/upgrade.ts";
import { type NodeFacts, nodeFacts, planFromFacts, targetRefOf, type UpgradePlan } from "../talos/upgrade_plan.ts";
import { defineTool, MUTATING, type ToolContext } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { shapeOutcomes } from "./per_node.ts";

const input = {
  context,
  nodes,
  version: v.optional(v.pipe(v.string(), v.maxLength(64), v.description("Target Talos version, e.g. v1.14.2."))),
  image: v.optional(v.pipe(v.string(), v.maxLength(512), v.description("Or the target installer image, tagged."))),
  via: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.maxLength(512))),
      v.maxLength(8),
      v.description('Installer (or tag) per intermediate minor, e.g. ["v1.13.9"].'),
    ),
  ),
  batch_size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64)), 1),
  dry_run: v.optional(v.pipe(v.boolean(), v.description("Only return the steps (default true).")), true),
  reboot_mode: v.optional(v.picklist(["default", "powercycle"])),
};

type ClusterArgs = v.InferOutput<v.StrictObjectSchema<typeof input, undefined>>;

const step = v.object({
  step: v.number(),
  action: v.string(),
  nodes: v.optional(v.array(v.string())),
  to: v.optional(v.string()),
  image: v.optional(v.string()),
  detail: v.string(),
});

export const upgradeClusterTool = defineTool({
  name: "talos_upgrade_cluster",
  title: "Upgrade: run a rolling Talos upgrade",
  description: "Run the rolling upgrade talos_upgrade_plan shows: one minor per stage, control planes one at a " +
    "time gated on etcd and readiness, then workers in batch_size; stops at the first failure, and a new call " +
    "resumes. Dry run by default (nodes default to the context's); a run needs explicit nodes, dry_run=false, " +
    "confirm: true and os:admin.",
  annotations: MUTATING,
  risk: "change",
  confirm: true,
  dryRunAllNodes: true,
  rpcs: UPGRADE_RPCS,
  optionalRpcs: ["/machine.MachineService/Read"],
  input,
  output: {
    target: v.string(),
    path: v.array(v.string()),
    blockers: v.array(v.string()),
    warnings: v.array(v.string()),
    steps: v.optional(v.array(step)),
    // Absent from a dry run; after a run, each node's first and last version of this call.
    nodes: v.optional(perNodeOutput({ from: v.string(), to: v.string(), upgraded: v.boolean() }).nodes),
    stopped: v.optional(v.string()),
  },
  dryRun: (a) => a.dry_run !== false,
  action: (a) => `run a rolling Talos upgrade to ${a.image ?? a.version}, rebooting each node in turn.`,
  etcdImpact: () => "one-by-one",
  run: (args, ctx) => runCluster(args, ctx),
});

async function runCluster(args: ClusterArgs, ctx: ToolContext): Promise<Record<string, unknown>> {
  const targetRef = targetRefOf(args.version, args.image);
  const session = await ctx.session(args.context);
  const targets = targetNodes(session.ctx, args.nodes);
  const plan = await currentPlan(session, targets, targetRef, args, ctx);
  const head = { target: plan.target, path: plan.path, blockers: plan.blockers, warnings: plan.warnings };
  if (args.dry_run) {
    const loose = plan.stages.filter((s) => !s.pinned).map((s) => s.to);
    const warnings = loose.length
      ? [...plan.warnings, `pass via with the installer of ${loose.join(", ")} to run this plan`]
      : plan.warnings;
    return { ...head, warnings, steps: plan.steps.map(({ how: _, ...s }) => s) };
  }
  if (plan.blockers.length) {
    throw new ToolError(`Not started: ${plan.blockers.join("; ")}. Nothing was changed.`, "FAILED_PRECONDITION");
  }
  const loose = plan.stages.find((s) => !s.pinned);
  if (loose) {
    throw new ToolError(
      `Not started: the path passes through ${loose.to}; name its installer with via (e.g. via: ` +
        `["${
          loose.image.replace(/<latest patch>$/, "<patch>")
        }"]), the latest patch of that minor. Nothing was changed.`,
      "INVALID_ARGUMENT",
    );
  }
  return { ...head, ...await execute(session, targets, plan, args, ctx) };
}

/** Facts of every target, then the plan: what is still to do, computed afresh on every call. */
async function currentPlan(
  session: TalosSession,
  targets: string[],
  targetRef: string,
  args: ClusterArgs,
  ctx: ToolContext,
): Promise<UpgradePlan> {
  const [outcomes] = await Promise.all([
    fanOut(targets, ctx.config.fanOutConcurrency, (n) => nodeFacts(session, n, ctx.signal)),
    learnHostnames(session, targets, ctx.signal, 2_000),
  ]);
  if (outcomes.every((o) => o.error !== undefined)) {
    throw new ToolError(
      `No targeted node answered: ${outcomes.map((o) => `${o.node} (${o.error})`).join("; ")}. Nothing was changed.`,
      outcomes[0]?.code ?? "UNAVAILABLE",
    );
  }
  const facts: NodeFacts[] = outcomes.map((o) => ({
    node: o.node,
    hostname: session.hostnames.get(o.node),
    ...(o.error !== undefined ? { error: o.error } : o.value),
  }));
  return planFromFacts(session, facts, targetRef, { batch: args.batch_size, via: args.via }, ctx.signal);
}

type Done = Record<string, unknown>;

async function execute(
  session: TalosSession,
  targets: string[],
  plan: UpgradePlan,
  args: ClusterArgs,
  ctx: ToolContext,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ctx.config.waitTimeoutMs;
  const total = plan.stages.reduce((n, s) => n + s.controlPlanes.length + s.workerBatches.flat().length, 0);
  const results = new Map<string, NodeOutcome<Done>>();
  const upgradedCps: string[] = [];
  const outages: string[] = [];
  let done = 0;
  let stopped: string | undefined;
  // Repeated counts are fine: the server turns them into increasing fractions (lib/progress.ts).
  const note = (message: string) => void ctx.progress(done, total, message);
  const wait = { pollMs: ctx.config.pollIntervalMs, deadline, signal: ctx.signal };

  /** One node to `stage.to`: install, reboot, back with the new version, every service ready. */
  const one = async (node: string, to: string, image: string): Promise<Done> => {
    const r = await upgradeAndWait(session, node, {
      image,
      expected: to,
      preserve: true,
      stage: false,
      force: false,
      rebootMode: args.reboot_mode === "powercycle" ? "POWERCYCLE" : "DEFAULT",
      ...wait,
      progress: note,
    });
    return { from: r.from, to: r.to, upgraded: true };
  };
  const record = (o: NodeOutcome<Done>, to: string) => {
    const prev = results.get(o.node)?.value;
    // A node that passes two stages reports its first version and its last.
    results.set(o.node, o.error === undefined && prev ? { ...o, value: { ...o.value, from: prev.from } } : o);
    done++;
    note(`${o.node}: ${o.error === undefined ? `on ${to}` : "failed"}`);
    if (o.error !== undefined) stopped ??= `at ${o.node} (step to ${to}): ${o.error}`;
  };

  outer: for (const stage of plan.stages) {
    for (const cp of stage.controlPlanes) {
      const gate = await etcdGate(session, cp.node, upgradedCps, { ...wait, note });
      if ("refusal" in gate) {
        stopped = `before ${cp.node} (step to ${stage.to}): ${gate.refusal}`;
        break outer;
      }
      if (gate.outage) outages.push(gate.outage);
      const [o] = await fanOut([cp.node], 1, (n) => one(n, stage.to, stage.image));
      record(o, stage.to);
      if (o.error !== undefined) break outer;
      upgradedCps.push(cp.node);
    }
    for (const batch of stage.workerBatches) {
      const nodes = batch.map((w) => w.node);
      const outcomes = await fanOut(nodes, nodes.length, (n) => one(n, stage.to, stage.image));
      for (const o of outcomes) record(o, stage.to);
      if (outcomes.some((o) => o.error !== undefined)) break outer;
    }
  }
  if (ctx.signal.aborted) throw new ToolError("cancelled; call again to resume from where it stopped", "CANCELLED");
  const entries = targets.map((node): NodeOutcome<Done> => {
    const r = results.get(node);
    if (r) return r;
    const at = Object.entries(plan.current).find(([, ns]) => ns.includes(node))?.[0] ?? "";
    const pending = plan.stages.some((s) =>
      [...s.controlPlanes, ...s.workerBatches.flat()].some((f) => f.node === node)
    );
    return pending
      ? { node, error: `not upgraded (still on ${at}): the run stopped first`, code: "ABORTED" }
      : { node, value: { from: at, to: at, upgraded: false } };
  });
  return {
    nodes: shapeOutcomes(session, entries),
    ...(stopped ? { stopped: `Stopped ${stopped}. Fix it, then call again: finished nodes are skipped.` } : {}),
    ...(outages.length ? { outage: [...new Set(outages)].join(" ") } : {}),
  };
}
