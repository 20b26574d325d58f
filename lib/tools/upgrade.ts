/**
 * @module talos_upgrade: upgrade Talos on the given nodes, control planes
 * strictly one at a time with an etcd health check before each, then workers.
 */
import * as v from "valibot";
import { etcdGate } from "../talos/etcd_gate.ts";
import { etcdView, memberFor } from "../talos/etcd_health.ts";
import { fanOut, type NodeOutcome } from "../talos/fan_out.ts";
import { targetNodes } from "../talos/session.ts";
import { UPGRADE_RPCS, upgradeAndWait } from "../talos/upgrade.ts";
import { parseTalosVersion } from "../talos/versions.ts";
import { defineTool, MUTATING, type ToolContext } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { learnHostnames } from "../talos/hostnames.ts";
import { shapeOutcomes } from "./per_node.ts";

const input = {
  context,
  nodes,
  image: v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(512),
    v.description("Installer image, e.g. ghcr.io/siderolabs/installer:v1.13.9 (or your factory image)."),
  ),
  preserve: v.optional(v.pipe(v.boolean(), v.description("Keep ephemeral data (default true).")), true),
  stage: v.optional(v.pipe(v.boolean(), v.description("Install now, boot it at the next reboot.")), false),
  force: v.optional(v.pipe(v.boolean(), v.description("Legacy API: skip its etcd checks.")), false),
  reboot_mode: v.optional(
    v.pipe(v.picklist(["default", "powercycle"]), v.description("powercycle skips kexec; default: default.")),
  ),
};

type UpgradeArgs = v.InferOutput<v.StrictObjectSchema<typeof input, undefined>>;

export const upgradeTool = defineTool({
  name: "talos_upgrade",
  title: "Node: upgrade Talos",
  description: "Upgrade Talos on the given nodes to an installer image, one minor version per step; control " +
    "planes one at a time with an etcd health check in between, then workers; waits for each to come back. " +
    "preserve defaults to true (unlike talosctl). Needs confirm: true and os:admin.",
  risk: "change",
  annotations: MUTATING,
  confirm: true,
  rpcs: UPGRADE_RPCS,
  optionalRpcs: ["/machine.MachineService/Read"],
  input,
  output: perNodeOutput({
    from: v.string(),
    to: v.string(),
    flow: v.picklist(["lifecycle", "legacy"]),
    rebooted: v.boolean(),
    installer_output: v.array(v.string()),
  }),
  action: ({ image, stage }) =>
    `upgrade Talos to ${image}` + (stage ? " (staged for the next reboot)." : ", rebooting each node."),
  etcdImpact: () => "one-by-one",
  upgradeImage: ({ image }) => image,
  run: (args, ctx) => runUpgrade(args, ctx),
});

async function runUpgrade(args: UpgradeArgs, ctx: ToolContext): Promise<Record<string, unknown>> {
  const session = await ctx.session(args.context);
  const nodes = args.nodes!;
  await learnHostnames(session, nodes, ctx.signal, 2_000);
  const view = await etcdView(session, [...new Set([...nodes, ...targetNodes(session.ctx)])], ctx.signal, nodes);
  const isCp = (n: string) => !!memberFor(view, n, session.hostnames.get(n));
  const cps = nodes.filter(isCp);
  const workers = nodes.filter((n) => !isCp(n));
  const deadline = Date.now() + ctx.config.waitTimeoutMs;
  // The version the image's tag names, if it names one (a factory image by digest does not).
  const tag = parseTalosVersion(args.image.split("@")[0]);
  const targetVersion = tag ? `v${tag.major}.${tag.minor}.${tag.patch}` : undefined;
  const results = new Map<string, NodeOutcome<Record<string, unknown>>>();
  const outages: string[] = [];
  let done = 0;
  // Repeated counts are fine: the server turns them into increasing fractions (lib/progress.ts).
  const note = (message: string) => void ctx.progress(done, nodes.length, message);

  const one = async (node: string): Promise<Record<string, unknown>> => {
    const r = await upgradeAndWait(session, node, {
      image: args.image,
      expected: targetVersion,
      preserve: args.preserve,
      stage: args.stage,
      force: args.force,
      rebootMode: args.reboot_mode === "powercycle" ? "POWERCYCLE" : "DEFAULT",
      pollMs: ctx.config.pollIntervalMs,
      deadline,
      signal: ctx.signal,
      progress: note,
    });
    return {
      from: r.from,
      flow: r.flow,
      ...(r.output?.length ? { installer_output: r.output } : {}),
      to: r.to,
      rebooted: r.rebooting,
    };
  };
  const record = (outcome: NodeOutcome<Record<string, unknown>>) => {
    results.set(outcome.node, outcome);
    done++;
    note(`${outcome.node}: ${outcome.error === undefined ? "upgraded" : "failed"}`);
  };
  const skip = (rest: readonly string[], error: string, code: string) => {
    for (const node of rest) record({ node, error, code });
  };

  // Control planes strictly one at a time; before each, etcd must be able to lose it (or the cluster be too
  // small to avoid the outage), and the gate waits only while waiting can help.
  const upgraded: string[] = [];
  for (const [i, node] of cps.entries()) {
    const gate = await etcdGate(session, node, upgraded, {
      signal: ctx.signal,
      pollMs: ctx.config.pollIntervalMs,
      deadline,
      note,
    });
    if ("refusal" in gate) {
      skip(cps.slice(i), `not upgraded: ${gate.refusal}`, "FAILED_PRECONDITION");
      break;
    }
    if (gate.outage) outages.push(gate.outage);
    const [outcome] = await fanOut([node], 1, one);
    record(outcome);
    if (outcome.error !== undefined) {
      skip(cps.slice(i + 1), `not upgraded: stopped after ${node} failed`, "ABORTED");
      break;
    }
    upgraded.push(node);
  }
  for (const outcome of await fanOut(workers, ctx.config.fanOutConcurrency, one)) record(outcome);
  return {
    nodes: shapeOutcomes(session, nodes.map((n) => results.get(n)!)),
    ...(outages.length ? { outage: [...new Set(outages)].join(" ") } : {}),
  };
}
