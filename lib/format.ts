/**
 * @module Tool results: the structured value plus its compact JSON text, cut
 * to the global output cap. What is cut is said in `truncated`, so an agent
 * knows to narrow the call rather than trust a partial answer.
 */

export interface CallResult {
  [key: string]: unknown;
  content: Array<{ type: "text"; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

interface Found {
  holder: unknown[] | Record<string, unknown>;
  key: string | number;
  path: string;
  size: number;
}

/** Every non-empty array (or long string) below `value`, with its path and serialized size. */
function collect(value: unknown, kind: "array" | "string", path = "", out: Found[] = []): Found[] {
  const visit = (holder: Found["holder"], key: string | number, v: unknown, p: string) => {
    if (kind === "array" ? Array.isArray(v) && v.length > 0 : typeof v === "string" && v.length > 64) {
      out.push({ holder, key, path: p, size: bytes(JSON.stringify(v)) });
    }
    if (v && typeof v === "object") collect(v, kind, p, out);
  };
  if (Array.isArray(value)) value.forEach((v, i) => visit(value, i, v, `${path}[${i}]`));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      visit(value as Record<string, unknown>, k, v, path ? `${path}.${k}` : k);
    }
  }
  return out;
}

/**
 * What to cut next: the largest candidate, but when most of its weight sits in
 * a nested list (the per-node `nodes` list holding one node's huge `items`),
 * the nested one, so no node disappears from the result for another's bulk.
 */
function largest(value: unknown, kind: "array" | "string"): Found | undefined {
  const all = collect(value, kind);
  let best = all.reduce<Found | undefined>((b, f) => (!b || f.size > b.size ? f : b), undefined);
  for (;;) {
    const inner = best && all
      .filter((f) => f.path.startsWith(best!.path) && f.path !== best!.path && f.size * 2 >= best!.size)
      .reduce<Found | undefined>((b, f) => (!b || f.size > b.size ? f : b), undefined);
    if (!inner) return best;
    best = inner;
  }
}

/**
 * Cuts `value` (in place) until its JSON fits in `maxBytes`: the largest
 * arrays lose items from their end first, then the longest strings are cut.
 * Returns what was dropped, by path, or undefined when nothing was cut.
 */
export function fitToCap(value: Record<string, unknown>, maxBytes: number): Record<string, number> | undefined {
  const dropped: Record<string, number> = {};
  const budget = maxBytes - 400; // room for the `truncated` note itself
  for (let round = 0; round < 200; round++) {
    const size = bytes(JSON.stringify(value));
    if (size <= budget) break;
    const arr = largest(value, "array");
    // One string carrying most of a list's weight (a file's content in a one-node result) is cut
    // itself, rather than dropping the whole entry that holds it.
    const str = arr && largest(value, "string");
    if (arr && !(str && str.size * 2 >= arr.size)) {
      const list = (arr.holder as Record<string | number, unknown[]>)[arr.key];
      const over = size - budget;
      const perItem = arr.size / list.length;
      const drop = Math.min(list.length, Math.max(1, Math.ceil(over / perItem)));
      list.splice(list.length - drop, drop);
      const key = arr.path.replace(/\[\d+\]/g, "[]");
      dropped[key] = (dropped[key] ?? 0) + drop;
      continue;
    }
    const cut = str ?? largest(value, "string");
    if (!cut) break;
    const s = (cut.holder as Record<string | number, string>)[cut.key];
    // Escaping makes JSON bytes and characters differ: keep the share of characters that fits.
    const fits = Math.max(0, cut.size - (size - budget) - 32);
    const keep = Math.floor((s.length * fits) / cut.size);
    (cut.holder as Record<string | number, string>)[cut.key] = s.slice(0, keep) + "…[cut]";
    const key = `${cut.path.replace(/\[\d+\]/g, "[]")} (characters)`;
    dropped[key] = (dropped[key] ?? 0) + s.length - keep;
  }
  return Object.keys(dropped).length ? dropped : undefined;
}

/** A successful result, bounded by `maxBytes`. */
export function okResult(value: Record<string, unknown>, maxBytes: number): CallResult {
  const dropped = fitToCap(value, maxBytes);
  if (dropped) {
    const own = value.truncated && typeof value.truncated === "object" ? value.truncated : {};
    value.truncated = {
      ...own,
      output_cap: maxBytes,
      dropped,
      hint: "Result cut to fit TALOS_MCP_MAX_OUTPUT; narrow the call (fewer nodes, filters, limits).",
    };
  }
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
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
  const result = okResult(value, maxBytes);
  return { ...result, content: [{ type: "text", text: `${head}\n${lines.join("\n")}` }], isError: true };
}
