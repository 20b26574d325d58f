/** @module Valibot schemas of a tool, and their JSON Schema form for tools/list (built once per tool). */
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import type { ToolSpec } from "./define.ts";
import { confirm, explicitNodes } from "./params.ts";

export interface ToolSchemas {
  input: v.GenericSchema;
  inputJson: Record<string, unknown>;
  outputJson: Record<string, unknown>;
}

const cache = new WeakMap<ToolSpec, ToolSchemas>();

const truncated = v.optional(
  v.pipe(
    v.record(v.string(), v.unknown()),
    v.description("Present when the result was cut; says what was dropped and how to ask for more."),
  ),
);

const outage = v.optional(
  v.pipe(
    v.string(),
    v.description(
      "Present when the call took etcd and the Kubernetes API down because the cluster is too small to avoid it.",
    ),
  ),
);

function json(schema: v.GenericSchema): Record<string, unknown> {
  const out = toJsonSchema(schema, { errorMode: "ignore", typeMode: "input" }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

export function toolSchemas(tool: ToolSpec): ToolSchemas {
  let s = cache.get(tool);
  if (!s) {
    // Strict: an unknown key is usually a typo (`node` for `nodes`) that would otherwise widen the call.
    // Mutating tools: `nodes` becomes required and `confirm` is added (the confirm contract, lib/guards/confirm.ts).
    const entries = tool.confirm ? { ...tool.input, nodes: explicitNodes, confirm } : tool.input;
    const input = v.strictObject(entries);
    s = {
      input,
      inputJson: json(input),
      outputJson: json(
        v.object({ ...tool.output, ...(tool.etcdImpact ? { outage } : {}), truncated } as v.ObjectEntries),
      ),
    };
    cache.set(tool, s);
  }
  return s;
}
