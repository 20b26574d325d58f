/**
 * @module talos_bootstrap: start etcd on one control plane of a new cluster. Once per cluster: a second
 * bootstrap elsewhere would start a second etcd, so the tool first asks every control plane whether
 * etcd runs there and refuses, naming the members, rather than trust Talos' ALREADY_EXISTS (which only
 * the node that was bootstrapped can answer).
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { fanOut } from "../talos/fan_out.ts";
import { controlPlanesOf } from "../talos/machine_types.ts";
import { type TalosSession, targetNodes } from "../talos/session.ts";
import { defineTool, MUTATING } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";

/**
 * Whether etcd runs on each control plane (its service state), and the members where it does. A node
 * that cannot be asked is "unknown": etcd may run there.
 */
async function etcdSeen(session: TalosSession, cps: readonly string[], signal: AbortSignal, concurrency: number) {
  return await fanOut(cps, concurrency, async (node) => {
    const res = await session.api.machine.ServiceList({}, { node, signal });
    const etcd = res.messages?.[0]?.services?.find((s) => s.id === "etcd");
    // Before Bootstrap, etcd waits in Preparing; Running means this node is a member of a live etcd.
    if (etcd?.state !== "Running") return { running: false, members: [] as string[] };
    const list = await session.api.machine.EtcdMemberList({ query_local: true }, { node, signal });
    return { running: true, members: (list.messages?.[0]?.members ?? []).map((m) => m.hostname || m.id) };
  });
}

export const bootstrapTool = defineTool({
  name: "talos_bootstrap",
  title: "Cluster: bootstrap etcd",
  description: "Start etcd on one control-plane node of a new cluster, once per cluster (the other control " +
    "planes join it). Refused when etcd already runs on any control plane. Use after the first control plane " +
    "got its config. Needs confirm: true and os:admin.",
  risk: "change",
  annotations: MUTATING,
  confirm: true,
  rpcs: ["/machine.MachineService/Bootstrap"],
  input: { context, nodes },
  output: perNodeOutput({ bootstrapped: v.boolean(), next: v.string() }),
  check: (a) => {
    if (a.nodes && a.nodes.length !== 1) {
      throw new ToolError(
        `Bootstrap runs on exactly one control-plane node, once per cluster; got ${a.nodes.length} nodes.`,
        "INVALID_ARGUMENT",
      );
    }
  },
  action: () => "bootstrap etcd: start a new etcd cluster on this control plane (once per cluster).",
  preconditions: async (args, ctx) => {
    const session = await ctx.session(args.context);
    const node = args.nodes![0];
    const candidates = [...new Set([...targetNodes(session.ctx), node])];
    const cps = await controlPlanesOf(session, candidates, ctx.signal, ctx.config.fanOutConcurrency) ?? candidates;
    if (!cps.includes(node)) {
      return `Refused: ${node} is not a control-plane node; bootstrap one of ${
        cps.join(", ") || "the control planes"
      }. ` +
        `Nothing was changed.`;
    }
    const seen = await etcdSeen(session, cps, ctx.signal, ctx.config.fanOutConcurrency);
    const running = seen.filter((o) => o.value?.running);
    if (running.length) {
      const members = [...new Set(running.flatMap((o) => o.value!.members))];
      return `Refused: etcd already runs on ${running.map((o) => o.node).join(", ")} (members: ` +
        `${members.join(", ") || "unknown"}), so this cluster was bootstrapped before. A second bootstrap would ` +
        `start a second etcd. Nothing was changed; check etcd with talos_etcd.`;
    }
    const unknown = seen.filter((o) => o.error);
    if (unknown.length) {
      return `Refused: cannot tell whether etcd already runs on ${
        unknown.map((o) => `${o.node} (${o.error})`)
          .join("; ")
      }. Bring those control planes back (or take them out of the context's nodes) and retry. ` +
        `Nothing was changed.`;
    }
    return undefined;
  },
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      await s.api.machine.Bootstrap({}, { node, signal: ctx.signal });
      return {
        bootstrapped: true,
        next: "etcd starts on this node and the other control planes join it; the Kubernetes API follows in a " +
          "few minutes (watch with talos_health).",
      };
    }),
});
