/**
 * @module Runs a tool's per-node work across the targeted nodes and shapes the
 * result as `{nodes: [{node, hostname?, ...value | error}]}`.
 */
import type { Config } from "../config.ts";
import { ToolError } from "../errors.ts";
import { nodePolicy } from "../policy/nodes.ts";
import { fanOut, type NodeOutcome } from "../talos/fan_out.ts";
import { learnHostnames } from "../talos/hostnames.ts";
import { type InsecureTarget, normalizeFingerprint, parseEndpoint } from "../talos/insecure_target.ts";
import { type ApiSession, type TalosSession, targetNodes } from "../talos/session.ts";
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

/** The maintenance-mode arguments (lib/tools/params.ts insecureArgs) with the nodes they go with. */
export interface InsecureArgs extends Targeting {
  insecure?: boolean;
  endpoint?: string;
  cert_fingerprint?: string;
}

/**
 * Where an insecure call goes, checked against the server's settings before anything is sent (tools
 * call it from `check`, so a refusal is a denied call); undefined for a normal, verified call.
 */
export function insecureTarget(args: InsecureArgs, config: Readonly<Config>): InsecureTarget | undefined {
  if (!args.insecure) {
    if (args.endpoint !== undefined || args.cert_fingerprint !== undefined) {
      throw new ToolError(
        "endpoint and cert_fingerprint go only with insecure: true (a node in maintenance mode); configured " +
          "nodes are reached through the talosconfig's endpoints, verified.",
        "INVALID_ARGUMENT",
      );
    }
    return undefined;
  }
  if (!config.enableInsecure) {
    throw new ToolError(
      "insecure is turned off on this server: talos-mcp talks to unverified (maintenance-mode) nodes only when " +
        "the operator sets TALOS_MCP_ENABLE_INSECURE=true and lists the nodes in " +
        "TALOS_MCP_INSECURE_ALLOWED_NODES. Nothing was sent.",
      "DENIED",
    );
  }
  const raw = args.endpoint ?? (args.nodes?.length === 1 ? args.nodes[0] : undefined);
  if (raw === undefined) {
    throw new ToolError("insecure needs endpoint: the node's IP (or IP:port), e.g. 10.5.0.9.", "INVALID_ARGUMENT");
  }
  const ep = parseEndpoint(raw);
  if (!ep) throw new ToolError(`endpoint "${raw}" is not an IP or IP:port, e.g. 10.5.0.9:50000.`, "INVALID_ARGUMENT");
  if (args.nodes && (args.nodes.length !== 1 || args.nodes[0] !== ep.host)) {
    throw new ToolError(
      `With insecure, nodes must be exactly the endpoint's IP (${ep.host}): a node in maintenance mode forwards ` +
        `no calls to other nodes.`,
      "INVALID_ARGUMENT",
    );
  }
  const pin = args.cert_fingerprint === undefined ? undefined : normalizeFingerprint(args.cert_fingerprint);
  if (args.cert_fingerprint !== undefined && !pin) {
    throw new ToolError("cert_fingerprint must be a SHA-256 in hex (64 digits; colons allowed).", "INVALID_ARGUMENT");
  }
  if (!nodePolicy(config.insecureAllowedNodes).allows(ep.host)) {
    throw new ToolError(
      `Node ${ep.host} is not in TALOS_MCP_INSECURE_ALLOWED_NODES (${config.insecureAllowedNodes.join(", ")}), ` +
        `so talos-mcp will not talk to it without verifying it. Ask the operator to add it. Nothing was sent.`,
      "DENIED",
    );
  }
  return { ...ep, ...(pin ? { pin } : {}) };
}

/**
 * `fn` against one node in maintenance mode, shaped like perNode's result; its entry carries the
 * certificate fingerprint seen (also when the call failed), so the next call can pin it.
 */
export async function onInsecureNode<T extends Record<string, unknown>>(
  ctx: ToolContext,
  target: InsecureTarget,
  fn: (session: ApiSession, node: string) => Promise<T>,
): Promise<{ nodes: NodeEntry[] }> {
  // Loaded here, on the first insecure call: it brings grpc-js, which a session would otherwise load at start.
  const { InsecureConnection } = await import("../talos/insecure.ts");
  const { conn, api } = await InsecureConnection.open(
    target,
    ctx.config.callTimeoutMs,
    nodePolicy(ctx.config.insecureAllowedNodes),
    nodePolicy(ctx.config.allowedNodes),
  );
  try {
    const [o] = await fanOut([target.host], 1, (node) => fn({ api }, node));
    const seen = conn.seen ? { cert_fingerprint: conn.seen } : {};
    return {
      nodes: [
        o.error !== undefined
          ? { node: o.node, error: o.error, code: o.code, ...seen }
          : { node: o.node, ...o.value, ...seen },
      ],
    };
  } finally {
    conn.close();
  }
}

/** perNode for tools that also reach maintenance-mode nodes: `insecure` sends the one call there. */
export function perNodeOrInsecure<T extends Record<string, unknown>>(
  ctx: ToolContext,
  args: InsecureArgs,
  fn: (session: ApiSession, node: string) => Promise<T>,
): Promise<{ nodes: NodeEntry[] }> {
  const target = insecureTarget(args, ctx.config);
  return target ? onInsecureNode(ctx, target, fn) : perNode(ctx, args, fn);
}
