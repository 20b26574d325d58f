/** @module talos_logs and talos_dmesg: the tail of a service, container or kernel log, optionally grepped. */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { maskText } from "../secrets.ts";
import { type Tail, tailLines } from "../talos/bounded.ts";
import type { TalosSession } from "../talos/session.ts";
import { defineTool, READ_ONLY, type ToolContext } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode, withLimitNote } from "./per_node.ts";

const MAX_LINE_BYTES = 2048;

/** A user regex, refused when it cannot compile or nests quantifiers (catastrophic backtracking). */
const grepParam = v.optional(
  v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(200),
    v.check((s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    }, "grep is not a valid JavaScript regular expression"),
    v.check(
      (s) => !/\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{?]/.test(s),
      "grep must not nest quantifiers like (a+)+; simplify the pattern",
    ),
    v.description("Regex (case-insensitive); only matching lines are kept, before the tail is cut."),
  ),
);

const tailParam = (fallback: number) =>
  v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1, "tail_lines must be at least 1"),
      v.maxValue(5000),
      v.description(`Last N lines to return per node (${fallback}).`),
    ),
    fallback,
  );

const lineOutput = perNodeOutput({
  incomplete: v.boolean(),
  lines: v.array(v.string()),
  matched: v.optional(v.number()),
  scanned: v.optional(v.number()),
  cut_lines: v.optional(v.number()),
});

type Opened = (s: TalosSession, node: string, signal: AbortSignal) => AsyncIterable<{ bytes?: Uint8Array | null }>;

/** Runs a tail per node and shapes `{lines, matched?, scanned?, cut_lines?}`. */
async function tailPerNode(
  ctx: ToolContext,
  args: { context?: string; nodes?: string[]; tail_lines: number; grep?: string },
  open: Opened,
  framePerLine: boolean,
  onError?: (s: TalosSession, node: string, err: unknown) => Promise<never>,
) {
  const grep = args.grep ? new RegExp(args.grep, "i") : undefined;
  const map = ctx.config.showSecrets ? undefined : maskText;
  let cutLines = 0;
  let stopped = 0;
  const result = await perNode(ctx, args, async (s, node) => {
    // A grep over a long log may outlast the deadline: stop a little before it and keep what was scanned.
    const budget = new AbortController();
    const timer = setTimeout(() => budget.abort(), Math.max(100, ctx.config.callTimeoutMs - 750));
    let t: Tail;
    try {
      t = await tailLines(open(s, node, AbortSignal.any([ctx.signal, budget.signal])), {
        lines: args.tail_lines,
        grep,
        maxLineBytes: MAX_LINE_BYTES,
        framePerLine,
        map,
      });
    } catch (err) {
      if (onError) await onError(s, node, err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    cutLines += t.cutLines;
    const early = budget.signal.aborted && !ctx.signal.aborted;
    if (early) stopped++;
    return {
      ...(early ? { incomplete: true } : {}),
      lines: t.lines,
      ...(grep ? { matched: t.matched, scanned: t.scanned } : {}),
      ...(t.cutLines ? { cut_lines: t.cutLines } : {}),
    };
  });
  const notes = [
    ...(cutLines ? [`${cutLines} lines longer than ${MAX_LINE_BYTES} bytes were cut (marked "…[line cut]")`] : []),
    ...(stopped ? [`on ${stopped} node(s) the log was only scanned until the time limit (incomplete: true)`] : []),
  ];
  return withLimitNote(
    result,
    notes.length
      ? {
        tool_limit: notes.join("; "),
        ask: stopped ? "narrow grep or raise TALOS_MCP_TIMEOUT_MS" : "use grep to select the lines you need",
      }
      : undefined,
  );
}

export const logsTool = defineTool({
  name: "talos_logs",
  title: "Service: logs",
  description: "Last lines of a Talos service log (etcd, kubelet, apid, ...) or, with namespace=k8s.io, of a " +
    "Kubernetes container (id from talos_containers). grep filters the whole log first; secrets are masked.",
  annotations: READ_ONLY,
  input: {
    context,
    nodes,
    service_name: v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(253),
      v.description("Service id (kubelet, etcd, ...) or container id <namespace>/<pod>:<container>."),
    ),
    tail_lines: tailParam(100),
    grep: grepParam,
    namespace: v.optional(
      v.pipe(v.picklist(["system", "k8s.io"]), v.description("system (Talos services, default) or k8s.io.")),
      "system",
    ),
  },
  output: lineOutput,
  run: (args, ctx) =>
    tailPerNode(
      ctx,
      args,
      (s, node, signal) =>
        s.api.machine.Logs({
          namespace: args.namespace,
          driver: args.namespace === "k8s.io" ? "CRI" : "CONTAINERD",
          id: args.service_name,
          follow: false,
          // tail_lines 0 means "nothing" to Talos, -1 the whole log (§5.4): grep has to see it all.
          tail_lines: args.grep ? -1 : args.tail_lines,
        }, { node, signal, timeoutMs: ctx.config.callTimeoutMs }),
      false,
      async (s, node, err) => {
        if (!(err instanceof ToolError) || err.code !== "NOT_FOUND" || args.namespace !== "system") throw err;
        const ids = await logIds(s, node, ctx.signal).catch(() => undefined);
        throw new ToolError(
          `No log "${args.service_name}" on node ${node}.` +
            (ids ? ` Logs there: ${ids.join(", ")}.` : "") +
            ` For a Kubernetes container pass namespace=k8s.io and an id from talos_containers.`,
          "NOT_FOUND",
        );
      },
    ),
});

async function logIds(s: TalosSession, node: string, signal: AbortSignal): Promise<string[]> {
  const res = await s.api.machine.LogsContainers(
    {},
    { node, signal },
  );
  return res.messages?.[0]?.ids ?? [];
}

export const dmesgTool = defineTool({
  name: "talos_dmesg",
  title: "Node: kernel log",
  description: "Last lines of each node's kernel ring buffer (dmesg), optionally filtered by a regex. Use for " +
    "hardware, disk, network driver or OOM problems.",
  annotations: READ_ONLY,
  input: { context, nodes, tail_lines: tailParam(200), grep: grepParam },
  output: lineOutput,
  run: (args, ctx) =>
    tailPerNode(
      ctx,
      args,
      (s, node, signal) => s.api.machine.Dmesg({ follow: false, tail: false }, { node, signal }),
      true,
    ),
});
