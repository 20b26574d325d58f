/**
 * @module Runs a tool's per-node work across the targeted nodes and shapes the
 * result as `{nodes: [{node, hostname?, ...value | error}]}`.
 */
import { fanOut, type NodeOutcome } from "../talos/fan_out.ts";
import { learnHostnames } from "../talos/hostnames.ts";
import { type TalosSession, targetNodes } from "../talos/session.ts";
import type { ToolContext } from "./define.ts";

export interface Targeting {
  context?: string;
  nodes?: string[];
}

export type NodeEntry = { node: string; hostname?: string; error?: string; code?: string } & Record<string, unknown>;

const HOSTNAME_TIMEOUT_MS = 2_000;

/** What a tool's own limit left out and how to ask for more; the output cap adds its keys beside these. */
export interface LimitNote {
  tool_limit: string;
  ask: string;
}

/**
 * `result` with `truncated` when a tool's own limit cut something (`note` given), so every tool reports
 * its cuts the same way as the global output cap does (lib/format.ts).
 */
export function withLimitNote<R extends Record<string, unknown>>(result: R, note: LimitNote | undefined): R {
  return note ? { ...result, truncated: note } : result;
}

/** How many per-node entries say `more` (a per-node list stopped at its limit). */
export const nodesWithMore = (result: { nodes: NodeEntry[] }): number => result.nodes.filter((n) => n.more).length;

/** Calls `fn` once per target node, in parallel; one failing node never hides the others. */
export async function perNode<T extends Record<string, unknown>>(
  ctx: ToolContext,
  args: Targeting,
  fn: (session: TalosSession, node: string) => Promise<T>,
): Promise<{ nodes: NodeEntry[] }> {
  const session = await ctx.session(args.context);
  const targets = targetNodes(session.ctx, args.nodes);
  let done = 0;
  // Progress per node (sent only when the client asked for it): over HTTP it streams as SSE.
  const settled = (node: string) => void ctx.progress(++done, targets.length, `${node} done`);
  const [outcomes] = await Promise.all([
    fanOut(targets, ctx.config.fanOutConcurrency, (node) => fn(session, node).finally(() => settled(node))),
    learnHostnames(session, targets, ctx.signal, Math.min(HOSTNAME_TIMEOUT_MS, ctx.config.callTimeoutMs)),
  ]);
  return { nodes: shapeOutcomes(session, outcomes) };
}

/** Fan-out outcomes as result entries: the node as asked for, its hostname when known, its value or error. */
export function shapeOutcomes<T extends Record<string, unknown>>(
  session: TalosSession,
  outcomes: readonly NodeOutcome<T>[],
): NodeEntry[] {
  return outcomes.map((o) => {
    const hostname = session.hostnames.get(o.node);
    const head: NodeEntry = { node: o.node, ...(hostname && hostname !== o.node ? { hostname } : {}) };
    return o.error !== undefined ? { ...head, error: o.error, code: o.code } : { ...head, ...o.value };
  });
}
