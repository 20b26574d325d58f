/**
 * @module talos_upgrade_plan: the ordered steps of a rolling upgrade — one
 * minor version per step, control planes one at a time (etcd leader last)
 * with health and quorum gates, then workers in batches. Executes nothing;
 * the plan itself is lib/talos/upgrade_plan.ts, which talos_upgrade_cluster runs.
 */
import * as v from "valibot";
import { type NodeFacts, nodeFacts, planFromFacts, targetRefOf } from "../talos/upgrade_plan.ts";
import { CLUSTER_VIEW_URI } from "../apps/view.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { context, nodes } from "./params.ts";
import { perNode } from "./per_node.ts";

const step = v.object({
  step: v.number(),
  action: v.picklist(["check", "upgrade", "gate"]),
  nodes: v.optional(v.array(v.string())),
  to: v.optional(v.string()),
  image: v.optional(v.string()),
  how: v.optional(v.string()),
  detail: v.string(),
});

export const upgradePlanTool = defineTool({
  name: "talos_upgrade_plan",
  title: "Upgrade: plan",
  description: "Plan a rolling Talos upgrade without running it: one minor version per step, control " +
    "planes one at a time (etcd leader last) with health and quorum gates, workers in batches. Use before " +
    "talos_upgrade_cluster (which runs it) or talos_upgrade; sends only reads.",
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
    const targetRef = targetRefOf(args.version, args.image);
    const session = await ctx.session(args.context);
    const facts = await perNode(ctx, args, (s, node) => nodeFacts(s, node, ctx.signal));
    const all = facts.nodes as NodeFacts[];
    const { stages: _, ...plan } = await planFromFacts(
      session,
      all,
      targetRef,
      { batch: args.worker_batch },
      ctx.signal,
    );
    return plan;
  },
});
