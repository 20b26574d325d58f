/**
 * @module Machine config patches, applied client-side as talosctl does (Talos only
 * ever receives a whole config through ApplyConfiguration):
 * an RFC 6902 JSON patch (single-document configs only, as in Talos) or a
 * merge patch of YAML/JSON documents matched by apiVersion/kind/name. The
 * merge follows Talos' main rules — maps merge, lists append, scalars
 * replace, `$patch: delete` removes — without its per-field exceptions; the
 * dry run's server-side diff is the authoritative preview.
 */
import fastJsonPatch from "fast-json-patch";
import { parseAllDocuments } from "yaml";
import { ToolError } from "../errors.ts";

type Doc = Record<string, unknown>;
export type PatchKind = "json6902" | "merge";

const isObj = (x: unknown): x is Doc => !!x && typeof x === "object" && !Array.isArray(x);
const isOp = (x: unknown) => isObj(x) && typeof x.op === "string" && typeof x.path === "string";

/** The patch text as documents or JSON patch operations. */
export function parsePatch(text: string): { kind: PatchKind; docs: unknown[] } {
  let docs: unknown[];
  try {
    docs = [JSON.parse(text)];
  } catch {
    const parsed = parseAllDocuments(text);
    const bad = parsed.find((d) => d.errors.length);
    if (bad) {
      throw new ToolError(`The patch is neither JSON nor YAML: ${bad.errors[0].message}`, "INVALID_ARGUMENT");
    }
    docs = parsed.map((d) => d.toJS()).filter((d) => d !== null);
  }
  if (docs.length === 1 && Array.isArray(docs[0])) {
    if (docs[0].length && docs[0].every(isOp)) return { kind: "json6902", docs: docs[0] };
    throw new ToolError(
      "The patch is a list but not of RFC 6902 operations ({op, path, value}).",
      "INVALID_ARGUMENT",
    );
  }
  if (!docs.length || !docs.every(isObj)) {
    throw new ToolError(
      "The patch must be YAML/JSON documents (a merge patch) or a list of RFC 6902 operations.",
      "INVALID_ARGUMENT",
    );
  }
  return { kind: "merge", docs };
}

/** Documents identify by apiVersion/kind/name; the v1alpha1 document has none of those. */
function keyOf(d: Doc): string {
  if (typeof d.kind === "string" || typeof d.apiVersion === "string") {
    return `${d.apiVersion ?? ""}/${d.kind ?? ""}/${d.name ?? ""}`;
  }
  return "v1alpha1";
}

const DELETE = (x: unknown) => isObj(x) && x.$patch === "delete";

function merge(base: unknown, patch: unknown): unknown {
  if (isObj(base) && isObj(patch)) {
    const out: Doc = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (DELETE(v)) delete out[k];
      else out[k] = k in out ? merge(out[k], v) : strip(v);
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch)) return [...base, ...patch.map(strip)];
  return strip(patch);
}

/** Patch values copied in as they are, without $patch markers. */
function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => !DELETE(x)).map(strip);
  if (isObj(v)) {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => !DELETE(x)).map(([k, x]) => [k, strip(x)]));
  }
  return v;
}

/** The config documents after the patch; throws ToolError when the patch cannot apply. */
export function applyPatch(config: readonly unknown[], patchText: string): { kind: PatchKind; docs: unknown[] } {
  const { kind, docs: patch } = parsePatch(patchText);
  if (kind === "json6902") {
    if (config.length !== 1) {
      throw new ToolError(
        `JSON 6902 patches only apply to single-document machine configs, and this one has ${config.length} ` +
          `documents (Talos refuses them too). Send a merge patch instead: YAML of just the fields to change, ` +
          `e.g. "machine:\\n  network:\\n    hostname: web-1".`,
        "INVALID_ARGUMENT",
      );
    }
    try {
      const res = fastJsonPatch.applyPatch(structuredClone(config[0]), patch as never, true, false);
      return { kind, docs: [res.newDocument] };
    } catch (err) {
      throw new ToolError(
        `The JSON patch does not apply: ${(err as Error).message.split("\n")[0]}`,
        "INVALID_ARGUMENT",
      );
    }
  }
  const out = config.map((d) => structuredClone(d));
  for (const p of patch as Doc[]) {
    const key = keyOf(p);
    const i = out.findIndex((d) => isObj(d) && keyOf(d) === key);
    if (p.$patch === "delete") {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = merge(out[i], p);
    else out.push(strip(p));
  }
  return { kind, docs: out };
}

/** Same content, whatever the key order. */
export function sameConfig(a: readonly unknown[], b: readonly unknown[]): boolean {
  const canon = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(canon)
      : isObj(x)
      ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, canon(x[k])]))
      : x;
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}
