/**
 * @module Valibot schemas of a tool, and their JSON Schema form for tools/list (built once per tool).
 *
 * tools/list is read by the model on every session, so the JSON form says each thing once: the shared
 * parameters (context, nodes, confirm), the per-node entry (`node`, `hostname`, `error`, `code`) and the
 * `truncated`/`outage` notes are described in the server instructions (lib/server.ts), and here appear only as
 * their type (or not at all, for result fields every tool shares). Validation is unaffected: calls are checked
 * against the full valibot schema (`input`), messages included.
 */
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import type { ToolSpec } from "./define.ts";
import { confirm, context, explicitNodes, insecureArgs, nodes } from "./params.ts";

export interface ToolSchemas {
  input: v.GenericSchema;
  inputJson: Record<string, unknown>;
  outputJson: Record<string, unknown>;
}

const cache = new WeakMap<ToolSpec, ToolSchemas>();

/** The shared parameters' JSON form: their meaning is in the server instructions, said once. */
const SHARED = new Map<unknown, Record<string, unknown>>([
  [context, { type: "string" }],
  [nodes, { type: "array", items: { type: "string" } }],
  [explicitNodes, { type: "array", items: { type: "string" }, minItems: 1 }],
  [confirm, { type: "boolean" }],
]);

function json(schema: v.GenericSchema): Record<string, unknown> {
  const out = toJsonSchema(schema, { errorMode: "ignore", typeMode: "input" }) as Record<string, unknown>;
  delete out.$schema;
  if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  return out;
}

/**
 * The output schema without what adds bytes and little meaning for the reader: nested `required` lists (a
 * node's fields are absent when it failed anyway; the top level keeps its list), string-keyed `propertyNames` (JSON keys are strings) and
 * `anyOf` of plain types (written as a type list).
 */
function compactOutput(node: unknown, top = true): unknown {
  if (Array.isArray(node)) return node.map((n) => compactOutput(n, false));
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(node)) {
    if ((k === "required" && !top) || (k === "propertyNames" && (val as { type?: string }).type === "string")) continue;
    // Under `properties` the keys are field names, not keywords: keep them all.
    out[k] = k === "properties"
      ? Object.fromEntries(Object.entries(val as object).map(([f, sch]) => [f, compactOutput(sch, false)]))
      : compactOutput(val, false);
  }
  const anyOf = out.anyOf as Record<string, unknown>[] | undefined;
  if (anyOf?.every((s) => Object.keys(s).length === 1 && typeof s.type === "string")) {
    delete out.anyOf;
    out.type = anyOf.map((s) => s.type);
  }
  return out;
}

function inputJson(entries: v.ObjectEntries, input: v.GenericSchema): Record<string, unknown> {
  const out = json(input);
  const props = out.properties as Record<string, unknown>;
  for (const [key, schema] of Object.entries(entries)) {
    const shared = SHARED.get(schema);
    if (shared) props[key] = shared;
  }
  return out;
}

/** The maintenance-mode arguments: in a tool's schema only when the operator enabled them. */
const INSECURE_KEYS = new Set(Object.keys(insecureArgs));
const cacheWithInsecure = new WeakMap<ToolSpec, ToolSchemas>();

/**
 * A tool's schemas. `insecure` (TALOS_MCP_ENABLE_INSECURE): the maintenance-mode arguments (insecure,
 * endpoint, cert_fingerprint) are offered; otherwise they are left out, so an agent neither pays for them in
 * every tools/list nor tries them where they can only be refused.
 */
export function toolSchemas(tool: ToolSpec, insecure = false): ToolSchemas {
  const memo = insecure ? cacheWithInsecure : cache;
  let s = memo.get(tool);
  if (!s) {
    // Strict: an unknown key is usually a typo (`node` for `nodes`) that would otherwise widen the call.
    // Mutating tools: `nodes` becomes required and `confirm` is added (the confirm contract, lib/guards/confirm.ts).
    // A tool whose dry run plans the whole cluster keeps `nodes` optional; the confirm guard requires it for a run.
    const all: v.ObjectEntries = tool.confirm
      ? { ...tool.input, nodes: tool.dryRunAllNodes ? nodes : explicitNodes, confirm }
      : tool.input;
    const entries = insecure ? all : Object.fromEntries(Object.entries(all).filter(([k]) => !INSECURE_KEYS.has(k)));
    const input = v.strictObject(entries);
    s = {
      input,
      inputJson: inputJson(entries, input),
      // Not strict: the shared fields (`truncated`, `outage`, each node's `node`/`hostname`/`error`) are left
      // out here and allowed as additional properties.
      outputJson: compactOutput(json(v.object(tool.output))) as Record<string, unknown>,
    };
    memo.set(tool, s);
  }
  return s;
}

/** Whether `key` is a maintenance-mode argument `tool` would take with TALOS_MCP_ENABLE_INSECURE. */
export const isInsecureArg = (tool: ToolSpec, key: string): boolean => INSECURE_KEYS.has(key) && key in tool.input;
