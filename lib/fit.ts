/**
 * @module Cutting a JSON value down to a byte budget, exactly, while keeping
 * as much of it, and as much of its shape, as the budget allows.
 *
 * A container over budget shares the budget among its children like water
 * levels: small children stay whole, big ones are each cut to the same level
 * (so one node's bulk never erases another node). When that level would be
 * too small to be useful (a list of 5,000 log lines cut to 6 bytes each),
 * whole items are dropped from the end instead. Strings lose their end and
 * carry a marker; lists lose items; big maps lose keys. Objects with few keys
 * (the fixed fields of a result, which its output schema describes) keep
 * them all unless nothing else is left to cut. Every cut is recorded by path.
 */

export const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), "utf8");

/** Appended to a cut string. */
export const CUT_MARK = "…[cut]";
const MARK_BYTES = jsonBytes(CUT_MARK);
/** Strings this short (JSON bytes) stay whole: cutting them saves little and loses a value. */
const MIN_CUT = 48;
/** An object with at least this many keys is a map (labels, a resource spec) and may lose keys. */
const MAP_KEYS = 32;
/** Path segments longer than this are shortened in the report. */
const MAX_SEGMENT = 40;
/** Longer paths keep only their end in the report. */
const MAX_PATH = 120;
/** The per-node list of a result: its entries are leveled, never dropped while a level fits at all. */
const PER_NODE = "nodes";

type Container = unknown[] | Record<string, unknown>;
type Dropped = Record<string, number>;

const isContainer = (v: unknown): v is Container => typeof v === "object" && v !== null;

/** The smallest JSON size of `v` when fixed objects may lose keys too. */
const hardMin = (v: unknown, soft: number) => (isContainer(v) ? 2 : soft);

/** Bytes of a container holding `kids` at their smallest: brackets, kept entries, keys, commas. */
const frame0 = (kids: Kid[], fixed: number, kept: number) =>
  kids.reduce((a, k) => a + k.keyBytes, fixed) + Math.max(0, kids.length + kept - 1);

/**
 * Makes `root` plain JSON in place (no undefined, functions or toJSON objects), so that the sizes
 * computed from its parts are the sizes JSON.stringify writes. Cheap: no copy of strings.
 */
export function plain(root: Record<string, unknown>): void {
  const walk = (v: unknown): unknown => {
    if (!isContainer(v)) return v;
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") return JSON.parse(JSON.stringify(v));
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const t = typeof v[i];
        v[i] = t === "undefined" || t === "function" || t === "symbol" ? null : walk(v[i]);
      }
    } else {
      for (const k of Object.keys(v)) {
        const t = typeof v[k];
        if (t === "undefined" || t === "function" || t === "symbol") delete v[k];
        else v[k] = walk(v[k]);
      }
    }
    return v;
  };
  walk(root);
}

/** Sizes of a value's parts, each computed once per cutting pass (a walk per level would be quadratic). */
class Sizes {
  private size = new WeakMap<object, number>();
  private kids = new WeakMap<object, number[]>();
  private mins = new WeakMap<object, number>();

  /** JSON bytes of `v`. */
  of(v: unknown): number {
    if (!isContainer(v)) return jsonBytes(v);
    let n = this.size.get(v);
    if (n === undefined) {
      const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
      const kids = entries.map(([k, x]) => (typeof k === "string" ? jsonBytes(k) + 1 : 0) + this.of(x));
      n = kids.reduce((a, b) => a + b, 2) + Math.max(0, kids.length - 1);
      this.size.set(v, n);
      this.kids.set(v, kids);
    }
    return n;
  }

  /** JSON bytes of each entry of `v` (its key included), in order. */
  entries(v: Container): number[] {
    this.of(v);
    return this.kids.get(v)!;
  }

  /** The smallest JSON size cutting can bring `v` (of `size` bytes) to without removing keys of a fixed object. */
  min(v: unknown, size: number): number {
    if (typeof v === "string") return size > MIN_CUT ? MARK_BYTES : size;
    if (!isContainer(v)) return size;
    if (Array.isArray(v)) return 2;
    const keys = Object.keys(v);
    if (keys.length >= MAP_KEYS) return 2;
    let n = this.mins.get(v);
    if (n === undefined) {
      const sizes = this.entries(v);
      n = keys.reduce((a, k, i) => {
        const keyBytes = jsonBytes(k) + 1;
        return a + keyBytes + this.min(v[k], sizes[i] - keyBytes) + (i ? 1 : 0);
      }, 2);
      this.mins.set(v, n);
    }
    return n;
  }
}

/**
 * Cuts the object `root` (plain JSON, see `plain`) in place until its JSON is
 * at most `target` bytes (it cannot go below `{}` plus the `keep` keys),
 * adding what it cut to `dropped`. Keys in `keep` (at the root) are never cut.
 */
export function fit(root: Record<string, unknown>, target: number, dropped: Dropped, keep: string[] = []): void {
  cutContainer(root, target, "", dropped, new Set(keep), new Sizes());
}

function cutValue(v: unknown, target: number, size: number, path: string, dropped: Dropped, sizes: Sizes): unknown {
  if (typeof v === "string") return cutString(v, target, size, path, dropped);
  if (isContainer(v)) cutContainer(v, target, path, dropped, new Set(), sizes);
  return v;
}

/** `s` without its end, plus the marker, in at most `target` JSON bytes (when `target` allows the marker). */
function cutString(s: string, target: number, size: number, path: string, dropped: Dropped): string {
  if (size <= target || size <= MIN_CUT) return s;
  // A string cut in an earlier round is cut further from its original part (the marker is not content).
  if (s.endsWith(CUT_MARK)) s = s.slice(0, -CUT_MARK.length);
  let used = MARK_BYTES;
  const whole = s.length;
  let keep = 0;
  while (keep < s.length) {
    const c = s.charCodeAt(keep);
    const pair = c >= 0xd800 && c <= 0xdbff && keep + 1 < s.length &&
      s.charCodeAt(keep + 1) >= 0xdc00 && s.charCodeAt(keep + 1) <= 0xdfff;
    const width = pair ? 2 : 1;
    const add = pair ? 4 : charBytes(c);
    if (used + add > target) break;
    used += add;
    keep += width;
  }
  const key = `${path} (characters)`;
  dropped[key] = (dropped[key] ?? 0) + whole - keep;
  return s.slice(0, keep) + CUT_MARK;
}

/** JSON bytes of one UTF-16 unit as JSON.stringify writes it (not part of a surrogate pair). */
function charBytes(c: number): number {
  if (c === 0x22 || c === 0x5c) return 2; // \" and \\
  if (c < 0x20) return c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6; // \n or \u0001
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdfff) return 6; // a lone surrogate is written as \udXXX
  return 3;
}

interface Kid {
  key: string | number;
  size: number;
  min: number;
  /** `"key":` of an object entry; 0 in an array. */
  keyBytes: number;
}

function cutContainer(
  x: Container,
  target: number,
  path: string,
  dropped: Dropped,
  keep: Set<string>,
  sizes: Sizes,
): void {
  if (sizes.of(x) <= target) return;
  const isArr = Array.isArray(x);
  const rec = x as Record<string | number, unknown>;
  const allKeys: Array<string | number> = isArr ? x.map((_, i) => i) : Object.keys(x);
  let fixed = 2; // brackets, plus the kept entries whole
  let kept = 0;
  const kids: Kid[] = [];
  const entrySizes = sizes.entries(x);
  allKeys.forEach((key, i) => {
    const keyBytes = isArr ? 0 : jsonBytes(key) + 1;
    const size = entrySizes[i] - keyBytes;
    if (typeof key === "string" && keep.has(key)) {
      fixed += keyBytes + size;
      kept++;
    } else kids.push({ key, size, min: sizes.min(rec[key], size), keyBytes });
  });
  // Bytes of the first n kids at their full size, their minimum size, and the keys and commas around them.
  const pre = (f: (k: Kid) => number) => kids.reduce((a, k) => (a.push(a[a.length - 1] + f(k)), a), [0]);
  const sizeSum = pre((k) => k.size);
  // Fixed objects deeper down keep their keys if they can ("soft"); if even that cannot fit, they
  // may drop theirs ("hard"), which cuts deep rather than dropping whole entries here.
  const hard = kids.length > 0 && frame0(kids, fixed, kept) + kids.reduce((a, k) => a + k.min, 0) > target;
  if (hard) { for (const k of kids) k.min = hardMin(rec[k.key], k.min); }
  const minSum = pre((k) => k.min);
  const keySum = pre((k) => k.keyBytes);
  const frame = (n: number) => fixed + keySum[n] + Math.max(0, n + kept - 1);
  /** The highest level each of the first n kids may keep (Infinity: all fit whole; -1: none does). */
  const level = (n: number): number => {
    if (frame(n) + sizeSum[n] <= target) return Infinity;
    if (frame(n) + minSum[n] > target) return -1;
    let lo = 0;
    let hi = kids.reduce((m, k, i) => (i < n ? Math.max(m, k.size) : m), 0);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      let sum = frame(n);
      for (let i = 0; i < n; i++) sum += Math.max(kids[i].min, Math.min(kids[i].size, mid));
      if (sum <= target) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  const droppable = isArr || allKeys.length >= MAP_KEYS;
  // A level this low is not worth keeping every item for: show fewer whole items instead.
  const useful = isArr && path === PER_NODE ? 0 : Math.min(1024, target / 4);
  let n = kids.length;
  if (droppable && level(n) < useful) {
    let lo = 0; // level(0) is Infinity whenever the frame fits
    let hi = n;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (level(mid) >= useful) lo = mid;
      else hi = mid - 1;
    }
    n = lo;
  }
  // Last resort (even for a fixed object): drop entries until their smallest forms fit.
  while (n > 0 && level(n) < 0) n--;

  if (n < kids.length) {
    const gone = kids.slice(n);
    if (isArr) {
      (x as unknown[]).splice(n);
      dropped[path] = (dropped[path] ?? 0) + gone.length;
    } else {
      for (const k of gone) delete rec[k.key];
      const key = `${path} (keys)`;
      dropped[key] = (dropped[key] ?? 0) + gone.length;
    }
  }
  const lvl = level(n);
  if (lvl !== Infinity && lvl >= 0) {
    for (const k of kids.slice(0, n)) {
      const allot = Math.max(k.min, Math.min(k.size, lvl));
      if (k.size <= allot) continue;
      const sub = isArr ? `${path}[]` : join(path, String(k.key));
      rec[k.key] = cutValue(rec[k.key], allot, k.size, sub, dropped, sizes);
    }
  }
}

function join(path: string, key: string): string {
  const seg = key.length > MAX_SEGMENT ? `${key.slice(0, MAX_SEGMENT - 1)}…` : key;
  const full = path ? `${path}.${seg}` : seg;
  // A deep path keeps its end, which says what was cut.
  return full.length > MAX_PATH ? `…${full.slice(-(MAX_PATH - 1))}` : full;
}
