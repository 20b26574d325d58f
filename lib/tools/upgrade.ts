/**
 * @module talos_upgrade: upgrade Talos on the given nodes, control planes
 * strictly one at a time with an etcd health check before each, then workers.
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { quorumRefusal } from "../talos/quorum.ts";
import { pause, readBootId, waitForReboot } from "../talos/boot.ts";
import { etcdView, memberFor } from "../talos/etcd_health.ts";
import { fanOut } from "../talos/fan_out.ts";
import { nodeVersions } from "../talos/node_versions.ts";
import { type TalosSession, targetNodes } from "../talos/session.ts";
import { upgradeNode } from "../talos/upgrade.ts";
import { defineTool, MUTATING, type ToolContext } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import type { NodeEntry } from "./per_node.ts";
import { learnHostnames } from "../talos/hostnames.ts";

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
  annotations: MUTATING,
  confirm: true,
  rpcs: [
    "/machine.LifecycleService/Upgrade",
    "/machine.MachineService/Upgrade",
    "/machine.ImageService/Pull",
    "/machine.MachineService/Reboot",
  ],
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

async function runUpgrade(args: UpgradeArgs, ctx: ToolContext): Promise<{ nodes: NodeEntry[] }> {
  const session = await ctx.session(args.context);
  const nodes = args.nodes!;
  const versions = await nodeVersions(session, nodes, ctx.signal, ctx.config.fanOutConcurrency);
  await learnHostnames(session, nodes, ctx.signal, 2_000);
  const view = await etcdView(session, [...new Set([...nodes, ...targetNodes(session.ctx)])], ctx.signal, nodes);
  const isCp = (n: string) => !!memberFor(view, n, session.hostnames.get(n));
  const cps = nodes.filter(isCp);
  const workers = nodes.filter((n) => !isCp(n));
  const deadline = Date.now() + ctx.config.waitTimeoutMs;
  const results = new Map<string, NodeEntry>();
  let step = 0;
  const note = (message: string) => void ctx.progress(step, nodes.length, message);

  const one = async (node: string): Promise<Record<string, unknown>> => {
    const from = versions.get(node)!;
    const before = await readBootId(session, node, ctx.signal);
    const res = await upgradeNode(session, node, from, {
      image: args.image,
      preserve: args.preserve,
      stage: args.stage,
      force: args.force,
      rebootMode: args.reboot_mode === "powercycle" ? "POWERCYCLE" : "DEFAULT",
      timeoutMs: Math.max(1_000, deadline - Date.now()),
      signal: ctx.signal,
      progress: note,
    });
    const base = { from, flow: res.flow, ...(res.output?.length ? { installer_output: res.output } : {}) };
    if (!res.rebooting) return { ...base, to: from, rebooted: false };
    await waitForReboot(session, node, { before, pollMs: ctx.config.pollIntervalMs, deadline, signal: ctx.signal });
    const to = (await nodeVersions(session, [node], ctx.signal, 1)).get(node)!;
    return { ...base, to, rebooted: true };
  };
  const record = (node: string, value?: Record<string, unknown>, err?: unknown) => {
    const hostname = session.hostnames.get(node);
    const head = { node, ...(hostname && hostname !== node ? { hostname } : {}) };
    results.set(
      node,
      err === undefined
        ? { ...head, ...value }
        : err instanceof ToolError
        ? { ...head, error: err.message, code: err.code }
        : { ...head, error: `internal error: ${(err as Error)?.message ?? String(err)}`, code: "INTERNAL" },
    );
    note(`${node}: ${err === undefined ? "upgraded" : "failed"}`);
    step++;
  };

  // Control planes strictly one at a time; before each, etcd must tolerate losing it.
  for (const [i, node] of cps.entries()) {
    const gate = await etcdGate(session, node, ctx, deadline);
    if (gate) {
      for (const rest of cps.slice(i)) {
        record(rest, undefined, new ToolError(`not upgraded: ${gate}`, "FAILED_PRECONDITION"));
      }
      break;
    }
    try {
      record(node, await one(node));
    } catch (err) {
      record(node, undefined, err);
      for (const rest of cps.slice(i + 1)) {
        record(rest, undefined, new ToolError(`not upgraded: stopped after ${node} failed`, "ABORTED"));
      }
      break;
    }
  }
  const outcomes = await fanOut(workers, ctx.config.fanOutConcurrency, (n) => one(n));
  for (const o of outcomes) {
    if (o.error !== undefined) record(o.node, undefined, new ToolError(o.error, o.code));
    else record(o.node, o.value);
  }
  return { nodes: nodes.map((n) => results.get(n)!) };
}

/** Waits (bounded) until etcd could lose `node` and keep quorum; the reason when it never could. */
async function etcdGate(
  session: TalosSession,
  node: string,
  ctx: ToolContext,
  deadline: number,
): Promise<string | undefined> {
  for (;;) {
    let reason: string | undefined;
    try {
      const view = await etcdView(session, targetNodes(session.ctx), ctx.signal);
      const all = view.members.every((m) => view.healthy.has(m.id));
      reason = all ? undefined : quorumRefusal(view, [node], "one-by-one", "upgrading") ??
        "etcd is not fully healthy yet";
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      reason = err instanceof ToolError ? err.message : String(err);
    }
    if (!reason) return undefined;
    if (Date.now() + ctx.config.pollIntervalMs > deadline) return reason;
    // Cancellable: a cancelled call (or the HTTP call deadline) must not keep polling etcd until the wait timeout.
    await pause(ctx.config.pollIntervalMs, ctx.signal);
  }
}
