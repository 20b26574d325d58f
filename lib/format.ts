/**
 * @module Tool results: the structured value plus its compact JSON text, cut
 * to the global output cap. What is cut is said in `truncated`, so an agent
 * knows to narrow the call rather than trust a partial answer.
 *
 * The bound is exact: the JSON text the model reads never exceeds the cap
 * (`structuredContent` is the same value, so it never does either). Cutting is
 * spread over the bulk of the value (lib/fit.ts), never "drop the result".
 */
import { fit, jsonBytes, plain } from "./fit.ts";

export interface CallResult {
  [key: string]: unknown;
  content: Array<{ type: "text"; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

const HINT = "Result cut to fit TALOS_MCP_MAX_OUTPUT; narrow the call (fewer nodes, filters, limits).";
/** At most this many places are named in `dropped`; the rest are counted under one key. */
const MAX_PLACES = 16;

/**
 * Cuts `value` (in place) until its JSON fits in `maxBytes`, and says so in
 * `value.truncated` (beside a tool's own note there). Returns what was
 * dropped, by path, or undefined when nothing was cut.
 */
export function fitToCap(value: Record<string, unknown>, maxBytes: number): Record<string, number> | undefined {
  return jsonBytes(value) <= maxBytes ? undefined : cut(value, maxBytes);
}

/**
 * `value` cut to the cap (in place, said in `truncated`) and its JSON text. Every result passes here: a
 * value that fits is serialised once, not measured and then serialised again.
 */
export function fittedJson(value: Record<string, unknown>, maxBytes: number): string {
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  cut(value, maxBytes);
  return JSON.stringify(value);
}

/** Cuts `value`, known to be over `maxBytes`, until it fits with its `truncated` note. */
function cut(value: Record<string, unknown>, maxBytes: number): Record<string, number> {
  plain(value);
  const dropped: Record<string, number> = {};
  // Start from the cap and tighten by what the note itself adds, until the whole fits.
  let budget = maxBytes;
  for (;;) {
    // A tool's own note (its limit and how to ask for more) is kept whole unless nothing else is left.
    fit(value, budget, dropped, budget > 0 ? ["truncated"] : []);
    const own = value.truncated && typeof value.truncated === "object" ? value.truncated : {};
    const note = { ...own, output_cap: maxBytes, dropped: summarize(dropped, maxBytes), hint: HINT };
    const size = jsonBytes({ ...value, truncated: note });
    // At budget 0 the value is `{}`: what is left is the note, which fits any cap the config allows (≥ 1 KiB).
    if (size <= maxBytes || budget === 0) {
      value.truncated = note;
      return dropped;
    }
    budget = Math.max(0, budget - Math.max(1, size - maxBytes));
  }
}

/** The places cut, largest count first; past MAX_PLACES (or a tenth of the cap), one summary key. */
function summarize(dropped: Record<string, number>, maxBytes: number): Record<string, number> {
  const all = Object.entries(dropped).sort((a, b) => b[1] - a[1]);
  const out: Record<string, number> = {};
  let bytes = 0;
  let rest = 0;
  for (const [k, n] of all) {
    bytes += k.length + 12;
    if (Object.keys(out).length < MAX_PLACES && bytes <= maxBytes / 10) out[k] = n;
    else rest++;
  }
  if (rest) out[`(${rest} more places)`] = rest;
  return out;
}

/** A successful result, bounded by `maxBytes` (its JSON text). */
export function okResult(value: Record<string, unknown>, maxBytes: number): CallResult {
  return { content: [{ type: "text", text: fittedJson(value, maxBytes) }], structuredContent: value };
}

/** A failed call: the message is the whole result. */
export function errorResult(message: string): CallResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

type Entry = { node?: unknown; hostname?: unknown; error?: unknown; code?: unknown };

/** Whether every node a per-node result lists failed (a result naming no node never counts). */
export function allNodesFailed(value: Record<string, unknown>): boolean {
  const nodes = value.nodes;
  return Array.isArray(nodes) && nodes.length > 0 &&
    nodes.every((n) => !!n && typeof n === "object" && typeof (n as Entry).error === "string");
}

const SUMMARY_NODES = 20;
const SUMMARY_ERROR_CHARS = 300;

/**
 * A per-node result in which every node failed: an error (clients and agents must not read it as
 * success) whose text sums up each node's error, while `structuredContent` still lists every node with
 * its error and code.
 */
export function nodesFailedResult(value: Record<string, unknown>, maxBytes: number): CallResult {
  const nodes = value.nodes as Entry[];
  const lines = nodes.slice(0, SUMMARY_NODES).map((n) => {
    const who = n.hostname ? `${n.node} (${n.hostname})` : String(n.node);
    const error = String(n.error);
    const text = error.length > SUMMARY_ERROR_CHARS ? `${error.slice(0, SUMMARY_ERROR_CHARS)}…` : error;
    return `- ${who}: ${n.code ? `[${n.code}] ` : ""}${text}`;
  });
  if (nodes.length > SUMMARY_NODES) lines.push(`- … and ${nodes.length - SUMMARY_NODES} more nodes`);
  const head = nodes.length === 1 ? "The targeted node failed:" : `All ${nodes.length} targeted nodes failed:`;
  fitToCap(value, maxBytes);
  return { content: [{ type: "text", text: `${head}\n${lines.join("\n")}` }], structuredContent: value, isError: true };
}
