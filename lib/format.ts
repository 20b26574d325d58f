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
