/**
 * @module Which machine config paths a change touches, computed from the config before and after (not
 * from the patch text, which can reach the same field in many spellings: merge patch, JSON patch, a whole
 * file). Paths are dotted from the v1alpha1 document (`machine.security.x`); other documents are
 * prefixed with their kind (and name): `KubespanEndpointsConfig.extraAnnouncedEndpoints`.
 */

type Doc = Record<string, unknown>;
const isObj = (x: unknown): x is Doc => !!x && typeof x === "object" && !Array.isArray(x);

function docKey(d: unknown): string {
  if (!isObj(d) || (typeof d.kind !== "string" && typeof d.apiVersion !== "string")) return "";
  return [d.kind, d.name].filter((x) => typeof x === "string" && x).join("/");
}

function byKey(docs: readonly unknown[]): Map<string, unknown> {
  return new Map(docs.map((d) => [docKey(d), d]));
}

const join = (prefix: string, key: string) => (prefix ? `${prefix}.${key}` : key);

/** Deepest paths where `a` and `b` differ; lists compare as whole values. */
function diff(a: unknown, b: unknown, path: string, out: string[]): void {
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[k], b[k], join(path, k), out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
}

/** The paths a change from `before` to `after` touches (added, removed or changed). */
export function changedPaths(before: readonly unknown[], after: readonly unknown[]): string[] {
  const out: string[] = [];
  const a = byKey(before);
  const b = byKey(after);
  for (const k of new Set([...a.keys(), ...b.keys()])) diff(a.get(k), b.get(k), k, out);
  return out;
}

/** A path of "" is a whole v1alpha1 document added or removed: it contains every path. */
const within = (path: string, prefix: string) => prefix === "" || path === prefix || path.startsWith(`${prefix}.`);

/** The first denied path a touched path is in (or contains, when a whole subtree is replaced). */
export function deniedTouch(
  touched: readonly string[],
  denied: readonly string[],
): { path: string; denied: string } | undefined {
  for (const path of touched) {
    const d = denied.find((x) => within(path, x) || within(x, path));
    if (d) return { path, denied: d };
  }
  return undefined;
}
