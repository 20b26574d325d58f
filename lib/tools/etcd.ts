/**
 * @module talos_etcd: etcd members, per-member status and alarms from the
 * control-plane nodes. Member ids are uint64: kept as 16-digit hex strings
 * (as talosctl prints them), never passed through a JS number.
 */
import * as v from "valibot";
import { count, memberHex } from "../talos/etcd_health.ts";
import { controlPlanesOf } from "../talos/machine_types.ts";
import { type TalosSession, targetNodes } from "../talos/session.ts";
import { defineTool, READ_ONLY, type ToolContext } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";

const num = v.union([v.number(), v.string()]);

type Sub = (s: TalosSession, node: string, signal: AbortSignal) => Promise<Record<string, unknown>>;

const SUBCOMMANDS: Record<"members" | "status" | "alarms", Sub> = {
  members: async (s: TalosSession, node: string, signal: AbortSignal) => {
    const res = await s.api.machine.EtcdMemberList({ query_local: false }, {
      node,
      signal,
    });
    return {
      members: (res.messages?.[0]?.members ?? []).map((m) => ({
        id: memberHex(m.id),
        hostname: m.hostname,
        peer_urls: m.peer_urls,
        client_urls: m.client_urls,
        ...(m.is_learner ? { learner: true } : {}),
      })),
    };
  },
  status: async (s: TalosSession, node: string, signal: AbortSignal) => {
    const res = await s.api.machine.EtcdStatus({}, { node, signal });
    const m = res.messages?.[0]?.member_status;
    if (!m) return { status: null };
    const id = memberHex(m.member_id);
    const leader = memberHex(m.leader);
    return {
      status: {
        member_id: id,
        leader: leader === "0000000000000000" ? "" : leader,
        is_leader: id === leader,
        version: m.protocol_version,
        ...(m.storage_version ? { storage_version: m.storage_version } : {}),
        db_size: count(m.db_size),
        db_size_in_use: count(m.db_size_in_use),
        raft_index: count(m.raft_index),
        raft_term: count(m.raft_term),
        raft_applied_index: count(m.raft_applied_index),
        errors: m.errors ?? [],
        ...(m.is_learner ? { learner: true } : {}),
      },
    };
  },
  alarms: async (s: TalosSession, node: string, signal: AbortSignal) => {
    const res = await s.api.machine.EtcdAlarmList({}, { node, signal });
    return {
      alarms: (res.messages?.[0]?.member_alarms ?? [])
        .filter((a) => a.alarm !== "NONE")
        .map((a) => ({ member_id: memberHex(a.member_id), alarm: a.alarm })),
    };
  },
};

export const etcdTool = defineTool({
  name: "talos_etcd",
  title: "etcd: members, status, alarms",
  description: "etcd on control-plane nodes: members (ids as hex strings), status per member (leader, db " +
    "size, raft index, errors) or alarms. Without nodes it asks the context's control planes only.",
  annotations: READ_ONLY,
  input: {
    context,
    nodes,
    subcommand: v.optional(
      v.pipe(v.picklist(["members", "status", "alarms"]), v.description("members (default), status or alarms.")),
      "members",
    ),
  },
  output: perNodeOutput({
    members: v.array(v.object({
      id: v.string(),
      hostname: v.string(),
      peer_urls: v.array(v.string()),
      client_urls: v.array(v.string()),
      learner: v.optional(v.boolean()),
    })),
    status: v.nullable(v.object({
      member_id: v.string(),
      leader: v.string(),
      is_leader: v.boolean(),
      version: v.string(),
      storage_version: v.optional(v.string()),
      db_size: num,
      db_size_in_use: num,
      raft_index: num,
      raft_term: num,
      raft_applied_index: num,
      errors: v.array(v.string()),
      learner: v.optional(v.boolean()),
    })),
    alarms: v.array(v.object({ member_id: v.string(), alarm: v.string() })),
  }),
  run: async (args, ctx) => {
    const nodes = args.nodes ?? await contextControlPlanes(args.context, ctx);
    return perNode(ctx, { ...args, nodes }, (s, node) => SUBCOMMANDS[args.subcommand](s, node, ctx.signal));
  },
});

/** The context's control planes (workers have no etcd); all its nodes when their types cannot be told. */
async function contextControlPlanes(context: string | undefined, ctx: ToolContext): Promise<string[]> {
  const session = await ctx.session(context);
  const all = targetNodes(session.ctx);
  const cps = await controlPlanesOf(session, all, ctx.signal, ctx.config.fanOutConcurrency);
  return cps?.length ? cps : all;
}
