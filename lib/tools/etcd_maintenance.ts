/**
 * @module talos_etcd_maintenance: the etcd chores an operator does by hand — defragment (one member at a
 * time, each checked with EtcdStatus before the next), disarm alarms, move leadership away, make a node leave,
 * remove a dead member by id. Member ids are the 16-digit hex strings talos_etcd shows; they travel to Talos
 * as decimal strings, never through a JS number (they exceed 2^53).
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { count, etcdView, memberHex } from "../talos/etcd_health.ts";
import { fanOut } from "../talos/fan_out.ts";
import type { TalosSession } from "../talos/session.ts";
import { defineTool, MUTATING, type ToolContext } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode, shapeOutcomes } from "./per_node.ts";

const ACTIONS = ["defrag", "alarm_disarm", "forfeit_leadership", "leave", "remove_member"] as const;
type Action = typeof ACTIONS[number];

const RPC: Record<Action, string> = {
  defrag: "/machine.MachineService/EtcdDefragment",
  alarm_disarm: "/machine.MachineService/EtcdAlarmDisarm",
  forfeit_leadership: "/machine.MachineService/EtcdForfeitLeadership",
  leave: "/machine.MachineService/EtcdLeaveCluster",
  remove_member: "/machine.MachineService/EtcdRemoveMemberByID",
};
const ALARM = /\balarm:(NOSPACE|CORRUPT)\b/;
const BLOCKS = "each member stops answering reads and writes while it is defragmented";

/** What the call does, for the consent question; one line per action. */
const ACTION_TEXT: Record<Action, (a: { member_id?: string }) => string> = {
  defrag: () =>
    `defragment etcd on each node in turn, checking its status before the next; ${BLOCKS}, and a large ` +
    `database takes minutes.`,
  alarm_disarm: () => "disarm etcd's alarms (NOSPACE, CORRUPT) cluster-wide; writes resume if the cause is gone.",
  forfeit_leadership: () => "move etcd leadership away from the node if it leads (a short election).",
  leave: () =>
    "remove the node's member from etcd for good; its etcd stops, and it rejoins only after a reset or reinstall.",
  remove_member: ({ member_id }) =>
    `remove etcd member ${member_id} from the cluster for good (for a member whose node is gone).`,
};

export const etcdMaintenanceTool = defineTool({
  name: "talos_etcd_maintenance",
  title: "etcd: maintenance",
  description: "etcd chores on control planes: defrag (one node at a time, status-checked, blocks that member " +
    "while it runs), alarm_disarm, forfeit_leadership, leave (this node's member) or remove_member (a dead " +
    "member by talos_etcd's hex id, sent via one healthy node). Needs confirm: true; os:operator for defrag and " +
    "alarm_disarm, else os:admin.",
  annotations: MUTATING,
  confirm: true,
  // Defrag, alarms and leadership are operating; changing membership is a change (admin profile).
  risk: "operate",
  riskFor: ({ action }) => (action === "leave" || action === "remove_member" ? "change" : "operate"),
  // What an operator certificate can do keeps the tool listed; the admin-only actions are refused by role.
  rpcs: ["/machine.MachineService/EtcdDefragment", "/machine.MachineService/EtcdAlarmDisarm"],
  rpcsFor: ({ action }) => [RPC[action]],
  optionalRpcs: [
    "/machine.MachineService/EtcdForfeitLeadership",
    "/machine.MachineService/EtcdLeaveCluster",
    "/machine.MachineService/EtcdRemoveMemberByID",
  ],
  input: {
    context,
    nodes,
    action: v.picklist(ACTIONS),
    member_id: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[0-9a-fA-F]{1,16}$/, "a member id as talos_etcd shows it: up to 16 hex digits"),
        v.description("remove_member: the member's id as talos_etcd shows it."),
      ),
    ),
  },
  output: perNodeOutput({
    done: v.boolean(),
    db_size: v.union([v.number(), v.string()]),
    db_size_in_use: v.union([v.number(), v.string()]),
    new_leader: v.string(),
    cleared_alarms: v.array(v.object({ member_id: v.string(), alarm: v.string() })),
    removed: v.string(),
    note: v.string(),
  }),
  check: (args) => {
    if (args.action === "remove_member" && !args.member_id) {
      throw new ToolError("remove_member needs member_id: the member's hex id from talos_etcd.", "INVALID_ARGUMENT");
    }
    if (args.action !== "remove_member" && args.member_id) {
      throw new ToolError(`member_id is for remove_member only, not ${args.action}.`, "INVALID_ARGUMENT");
    }
    if ((args.action === "leave" || args.action === "remove_member") && (args.nodes?.length ?? 0) > 1) {
      throw new ToolError(
        `${args.action} takes one node per call (etcd loses a member each time; check talos_etcd in between).`,
        "INVALID_ARGUMENT",
      );
    }
  },
  // A member that still serves is not removed by id: that is what leave (on its node) is for.
  preconditions: async (args, ctx) => {
    if (args.action !== "remove_member") return undefined;
    const session = await ctx.session(args.context);
    const view = await etcdView(session, args.nodes!, ctx.signal);
    const id = BigInt("0x" + args.member_id!).toString();
    const member = view.members.find((m) => m.id === id);
    if (!member) {
      const known = view.members.map((m) => `${memberHex(m.id)} (${m.hostname})`).join(", ");
      return `Refused: no etcd member ${memberHex(id)}; the members are ${known}. Nothing was changed.`;
    }
    if (view.healthy.has(id)) {
      return `Refused: member ${memberHex(id)} (${member.hostname}) is healthy and serving. remove_member is for a ` +
        `member whose node is gone; to take a live node out, use action leave on it. Nothing was changed.`;
    }
    return undefined;
  },
  action: (args) => ACTION_TEXT[args.action](args),
  // leave takes the member out for good: the quorum guard checks it as a member going down. defrag is not
  // guarded so: a raised NOSPACE alarm marks every member unhealthy, and defragmenting is how it is cleared;
  // the round checks each member's status itself before going on.
  etcdImpact: (args) => args.action === "leave" ? "together" : undefined,
  run: (args, ctx) => {
    const signal = ctx.signal;
    switch (args.action) {
      case "defrag":
        return defragInTurn(ctx, args);
      case "alarm_disarm":
        return perNode(ctx, args, async (s, node) => {
          const r = await s.api.machine.EtcdAlarmDisarm({}, { node, signal });
          const cleared = (r.messages?.[0]?.member_alarms ?? []).filter((a) => a.alarm !== "NONE");
          return {
            done: true,
            cleared_alarms: cleared.map((a) => ({ member_id: memberHex(a.member_id), alarm: a.alarm })),
          };
        });
      case "forfeit_leadership":
        return perNode(ctx, args, async (s, node) => {
          const r = await s.api.machine.EtcdForfeitLeadership({}, { node, signal });
          const to = r.messages?.[0]?.member ?? "";
          return to ? { done: true, new_leader: to } : { done: true, note: "not the leader: nothing moved" };
        });
      case "leave":
        return perNode(ctx, args, async (s, node) => {
          await s.api.machine.EtcdLeaveCluster({}, { node, signal });
          return { done: true, note: "left etcd; its etcd stays stopped until the node is reset or reinstalled" };
        });
      case "remove_member":
        return perNode(ctx, args, async (s, node) => {
          const memberId = BigInt("0x" + args.member_id!).toString();
          await s.api.machine.EtcdRemoveMemberByID({ member_id: memberId }, { node, signal });
          return { done: true, removed: memberHex(memberId) };
        });
    }
  },
});

/**
 * Defragments the nodes one after another. Each is asked for EtcdStatus afterwards, and the next is
 * started only when that status is clean: a member left unhealthy stops the round, so at most one member
 * is ever out of service.
 */
async function defragInTurn(
  ctx: ToolContext,
  args: { context?: string; nodes?: string[] },
) {
  const session: TalosSession = await ctx.session(args.context);
  const targets = args.nodes!;
  let stoppedAt: string | undefined;
  let done = 0;
  const outcomes = await fanOut(targets, 1, async (node) => {
    if (stoppedAt) {
      throw new ToolError(`not defragmented: the round stopped after ${stoppedAt} (see its entry).`, "SKIPPED");
    }
    try {
      await session.api.machine.EtcdDefragment({}, {
        node,
        signal: ctx.signal,
        // Defragmenting a large database takes minutes; the call still has a deadline.
        timeoutMs: Math.max(ctx.config.waitTimeoutMs, ctx.config.callTimeoutMs),
      });
      const st = (await session.api.machine.EtcdStatus({}, { node, signal: ctx.signal })).messages?.[0]?.member_status;
      // A raised alarm shows in every member's errors until disarmed: not a reason to stop the round.
      const alarms = (st?.errors ?? []).filter((e) => ALARM.test(e));
      const errors = (st?.errors ?? []).filter((e) => !ALARM.test(e));
      if (errors.length) {
        throw new ToolError(
          `defragmented, but ${node}'s etcd status then reported: ${errors.join("; ")}. Later nodes were left alone.`,
          "UNHEALTHY",
        );
      }
      return {
        done: true,
        db_size: count(st?.db_size),
        db_size_in_use: count(st?.db_size_in_use),
        note: "defragmented (the member was blocked while it ran); status checked" +
          (alarms.length ? `; alarms still raised until alarm_disarm: ${alarms.join("; ").trim()}` : " clean"),
      };
    } catch (err) {
      stoppedAt = node;
      throw err;
    } finally {
      void ctx.progress(++done, targets.length, `${node} done`);
    }
  });
  return { nodes: shapeOutcomes(session, outcomes) };
}
