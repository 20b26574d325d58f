/** @module talos_reboot and talos_rollback: power-cycle nodes, optionally waiting until they are back. */
import * as v from "valibot";
import { readBootId, waitForReboot } from "../talos/boot.ts";
import { defineTool, MUTATING } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";

const MODE = { default: "DEFAULT", powercycle: "POWERCYCLE", force: "FORCE" } as const;

export const rebootTool = defineTool({
  name: "talos_reboot",
  title: "Node: reboot",
  description: "Reboot the given nodes (default graceful, powercycle skips kexec, force skips the graceful " +
    "shutdown). wait=true polls until each node is back with a new boot id. Refused when etcd would lose a " +
    "quorum that one-at-a-time would keep; on a 1-2 member etcd it goes ahead and says the outage. Needs " +
    "confirm: true and os:operator (os:admin for wait's boot id).",
  risk: "operate",
  annotations: MUTATING,
  confirm: true,
  rpcs: ["/machine.MachineService/Reboot"],
  optionalRpcs: ["/machine.MachineService/Read"], // wait's boot id; without it, waits for down-then-up
  input: {
    context,
    nodes,
    mode: v.optional(
      v.pipe(v.picklist(["default", "powercycle", "force"]), v.description("Default: default (graceful).")),
      "default",
    ),
    wait: v.optional(v.pipe(v.boolean(), v.description("Wait until every node is back (bounded).")), false),
  },
  output: perNodeOutput({ rebooted: v.boolean(), back: v.boolean(), boot_id: v.string(), polls: v.number() }),
  action: ({ mode, wait }) =>
    `reboot (mode ${mode}); the nodes stop serving until they boot again` + (wait ? ", and wait for them." : "."),
  etcdImpact: () => "together",
  run: (args, ctx) => {
    const deadline = Date.now() + ctx.config.waitTimeoutMs;
    const total = args.nodes!.length;
    // perNode reports each node done; polls repeat the last count, which the server makes a rising fraction.
    return perNode(ctx, args, async (s, node) => {
      const before = args.wait ? await readBootId(s, node, ctx.signal) : undefined;
      await s.api.machine.Reboot({ mode: MODE[args.mode] }, {
        node,
        signal: ctx.signal,
      });
      if (!args.wait) return { rebooted: true };
      const back = await waitForReboot(s, node, {
        before,
        pollMs: ctx.config.pollIntervalMs,
        deadline,
        signal: ctx.signal,
        onPoll: () => void ctx.progress(0, total, `waiting for ${node} to come back`),
      });
      return { rebooted: true, back: true, ...(back.bootId ? { boot_id: back.bootId } : {}), polls: back.polls };
    });
  },
});

export const rollbackTool = defineTool({
  name: "talos_rollback",
  title: "Node: roll back upgrade",
  description: "Switch the given nodes back to the Talos version they ran before the last upgrade, and reboot " +
    "them. Use when an upgrade misbehaves. Needs confirm: true and os:admin.",
  risk: "change",
  annotations: MUTATING,
  confirm: true,
  rpcs: ["/machine.MachineService/Rollback"],
  input: { context, nodes },
  output: perNodeOutput({ rolled_back: v.boolean() }),
  action: () => "roll back to the previous Talos version and reboot.",
  etcdImpact: () => "together",
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      await s.api.machine.Rollback({}, { node, signal: ctx.signal });
      return { rolled_back: true };
    }),
});
