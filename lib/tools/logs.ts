/** @module talos_logs and talos_dmesg: the tail of a service, container or kernel log, optionally grepped. */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { compileGrep, grepProblem } from "../grep.ts";
import { maskText } from "../secrets.ts";
import { type Tail, tailLines } from "../talos/bounded.ts";
import { type TalosSession, targetNodes } from "../talos/session.ts";
import { defineTool, READ_ONLY, type ToolContext } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode, withLimitNote } from "./per_node.ts";

const MAX_LINE_BYTES = 2048;

/** A user regex in RE2 syntax (linear-time matching: no pattern can stall the server on a long log). */
const grepParam = v.optional(
  v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(200),
    v.rawCheck(({ dataset, addIssue }) => {
      const problem = dataset.typed ? grepProblem(dataset.value) : undefined;
      if (problem) addIssue({ message: problem });
    }),
    v.description(
      "Regex in RE2 syntax, case-insensitive (no backreferences or lookaround); only matching lines are " +
        "kept, before the tail is cut.",
    ),
  ),
);

const tailParam = (fallback: number) =>
  v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.check((n) => n === -1 || (n >= 1 && n <= 5000), "tail_lines is 1 to 5000, or -1 for the whole log"),
      v.description(`Last N lines per node (${fallback}); -1: the whole log, newest lines kept within the output cap.`),
    ),
    fallback,
  );

const lineOutput = perNodeOutput({
  incomplete: v.boolean(),
  lines: v.array(v.string()),
  matched: v.optional(v.number()),
  scanned: v.optional(v.number()),
  cut_lines: v.optional(v.number()),
  omitted_lines: v.optional(v.number()),
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
  const grep = args.grep ? compileGrep(args.grep) : undefined;
  const map = ctx.config.showSecrets ? undefined : maskText;
  // tail_lines -1: each node's newest lines within its share of the output cap (80%: room for the rest).
  const targets = targetNodes((await ctx.session(args.context)).ctx, args.nodes).length;
  const maxBytes = Math.floor((ctx.config.maxOutputBytes * 0.8) / Math.max(1, targets));
  let cutLines = 0;
  let stopped = 0;
  let omitted = 0;
  const result = await perNode(ctx, args, async (s, node) => {
    // A grep over a long log may outlast the deadline: stop a little before it and keep what was scanned.
    const budget = new AbortController();
    const timer = setTimeout(() => budget.abort(), Math.max(100, ctx.config.callTimeoutMs - 750));
    let t: Tail;
    try {
      t = await tailLines(open(s, node, AbortSignal.any([ctx.signal, budget.signal])), {
        lines: args.tail_lines,
        maxBytes,
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
    omitted += t.omitted;
    const early = budget.signal.aborted && !ctx.signal.aborted;
    if (early) stopped++;
    return {
      ...(early ? { incomplete: true } : {}),
      lines: t.lines,
      ...(grep ? { matched: t.matched, scanned: t.scanned } : {}),
      ...(t.cutLines ? { cut_lines: t.cutLines } : {}),
      ...(args.tail_lines === -1 && t.omitted ? { omitted_lines: t.omitted } : {}),
    };
  });
  const notes = [
    ...(cutLines ? [`${cutLines} lines longer than ${MAX_LINE_BYTES} bytes were cut (marked "…[line cut]")`] : []),
    ...(stopped ? [`on ${stopped} node(s) the log was only scanned until the time limit (incomplete: true)`] : []),
    ...(args.tail_lines === -1 && omitted
      ? [`${omitted} older lines were left out to fit the output cap (omitted_lines per node); the newest are kept`]
      : []),
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
          // tail_lines 0 means "nothing" to Talos, -1 the whole log: grep has to see it all.
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
