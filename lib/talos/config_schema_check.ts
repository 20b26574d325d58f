/**
 * @module Checks a decoded machine-config document against the compact schema
 * (lib/talos/config_schema.json, made by scripts/gen_config_schema.ts): the
 * subset of JSON Schema Talos' schema uses — type, enum, properties, required,
 * closed objects, patternProperties, items, oneOf, pattern, bounds. Messages
 * never quote the value found, only its type: a value may be a secret.
 */
import { isIP } from "node:net";
import SCHEMA from "./config_schema.json" with { type: "json" };

export interface SchemaNode {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  required?: string[];
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  $ref?: string;
}

export interface CompactSchema {
  source: string;
  v1alpha1: string;
  kinds: Record<string, string>;
  defs: Record<string, SchemaNode>;
}

export const CONFIG_SCHEMA = SCHEMA as CompactSchema;

export type PathSeg = string | number;
export type Report = (path: PathSeg[], message: string) => void;

/**
 * Patterns the schema uses for addresses and prefixes: a pattern admits
 * 999.1.1.1, so values that match are also parsed as what they claim to be.
 */
const ADDRESS_PATTERNS: Record<string, (s: string) => string | undefined> = {
  "^[0-9a-f.:]+$": (s) => (isIP(s) ? undefined : "is not a valid IP address"),
  "^[0-9a-f.:]+/\\d{1,3}$": (s) => cidrProblem(s),
};

const PATTERN_HINTS: Record<string, string> = {
  "^[-+]?(((\\d+(\\.\\d*)?|\\.\\d+|\\d+)([nuµm]?s|m|h))|0)+$": "a duration such as 30s, 5m or 1h30m",
  "^[-+]?(((\\d+(\\.\\d*)?|\\d*(\\.\\d+)+)([nuµm]?s|m|h))|0)+$": "a duration such as 30s, 5m or 1h30m",
  "^[0-9a-f.:]+$": "an IP address such as 10.5.0.1",
  "^[0-9a-f.:]+/\\d{1,3}$": "a CIDR prefix such as 10.5.0.0/24",
  "^([0-9a-fA-F]{2}(:[0-9a-fA-F]{2})+)$": "a hardware address such as 00:11:22:33:44:55",
  "^([0-9a-f.:]+|\\[[0-9a-f:.]+\\]):\\d{1,5}$": "host:port such as 10.5.0.1:51820 ([::1]:51820 for IPv6)",
};

const regexCache = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let r = regexCache.get(pattern);
  if (!r) regexCache.set(pattern, r = new RegExp(pattern, "u"));
  return r;
}

/** Why `s` is not an address/prefix CIDR such as 10.244.0.0/16 or fd00::/64; undefined when it is one. */
export function cidrProblem(s: string): string | undefined {
  const slash = s.lastIndexOf("/");
  if (slash < 0) return "is not a CIDR: the prefix length is missing (e.g. 10.244.0.0/16)";
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const family = isIP(ip);
  if (!family) return "is not a CIDR: the address part is not a valid IP address";
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `is not a CIDR: the prefix length must be 0..${max}`;
  return undefined;
}

/** What a value is, in the schema's words. */
function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value === "object" ? "object" : typeof value;
}

const TYPE_WORDS: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  integer: "an integer",
  boolean: "a boolean (true or false)",
};

/** Plain words for what a schema node accepts (for oneOf and type errors). */
function describe(node: SchemaNode): string {
  const n = resolve(node);
  if (n.oneOf) return n.oneOf.map(describe).join(" or ");
  if (n.type === "array" && n.items?.type) return `a list of ${(TYPE_WORDS[n.items.type] ?? n.items.type).slice(2)}s`;
  return TYPE_WORDS[n.type ?? ""] ?? "any value";
}

function resolve(node: SchemaNode): SchemaNode {
  let n = node;
  for (let i = 0; n.$ref && i < 8; i++) n = CONFIG_SCHEMA.defs[n.$ref] ?? {};
  return n;
}

/** The closest known name (a typo's likely target), when close enough to suggest. */
export function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Checks `value` against `node`, reporting each problem with its path. */
export function checkSchema(node: SchemaNode, value: unknown, path: PathSeg[], report: Report): void {
  const n = resolve(node);
  // YAML `key:` with nothing after it decodes to null, which Talos reads as "not set".
  if (value === null || value === undefined) return;
  if (n.oneOf) {
    const fits = n.oneOf.filter((alt) => {
      let ok = true;
      checkSchema(alt, value, path, () => ok = false);
      return ok;
    });
    if (fits.length === 0) report(path, `must be ${describe(n)}, got ${TYPE_WORDS[typeOf(value)] ?? typeOf(value)}`);
    return;
  }
  if (n.enum) {
    if (!n.enum.includes(value)) report(path, `must be one of: ${n.enum.map((e) => JSON.stringify(e)).join(", ")}`);
    return;
  }
  const actual = typeOf(value);
  if (n.type && n.type !== actual && !(n.type === "number" && actual === "integer")) {
    report(path, `must be ${TYPE_WORDS[n.type] ?? n.type}, got ${TYPE_WORDS[actual] ?? actual}`);
    return;
  }
  if (actual === "object") checkObject(n, value as Record<string, unknown>, path, report);
  else if (actual === "array") {
    const list = value as unknown[];
    if (n.minItems !== undefined && list.length < n.minItems) report(path, `needs at least ${n.minItems} entries`);
    if (n.items) list.forEach((item, i) => checkSchema(n.items!, item, [...path, i], report));
  } else if (actual === "string" && n.pattern) {
    const s = value as string;
    if (!regex(n.pattern).test(s)) {
      report(path, `must be ${PATTERN_HINTS[n.pattern] ?? `a string matching ${n.pattern}`}`);
    } else {
      const problem = ADDRESS_PATTERNS[n.pattern]?.(s);
      if (problem) report(path, problem);
    }
  } else if (actual === "integer" || actual === "number") {
    const x = value as number;
    if (n.minimum !== undefined && x < n.minimum) report(path, `must be at least ${n.minimum}`);
    if (n.maximum !== undefined && x > n.maximum) report(path, `must be at most ${n.maximum}`);
  }
}

function checkObject(n: SchemaNode, obj: Record<string, unknown>, path: PathSeg[], report: Report): void {
  const props = n.properties ?? {};
  for (const key of n.required ?? []) {
    if (obj[key] === undefined || obj[key] === null) report([...path, key], "is required");
  }
  for (const [key, value] of Object.entries(obj)) {
    const at = [...path, key];
    if (Object.hasOwn(props, key)) {
      checkSchema(props[key], value, at, report);
      continue;
    }
    const byPattern = Object.entries(n.patternProperties ?? {}).find(([p]) => regex(p).test(key));
    if (byPattern) checkSchema(byPattern[1], value, at, report);
    else if (typeof n.additionalProperties === "object") checkSchema(n.additionalProperties, value, at, report);
    else if (n.additionalProperties === false) {
      const known = Object.keys(props);
      const guess = closest(key, known);
      report(
        at,
        `is not a known field` +
          (guess
            ? `; did you mean ${guess}?`
            : known.length
            ? `; known fields here: ${known.slice(0, 30).join(", ")}`
            : ""),
      );
    }
  }
}
