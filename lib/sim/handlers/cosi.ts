/** @module Simulated COSI State service: Get and List, with Talos' access rules
 * (canonical type and an existing namespace required, sensitive types admin-only). */
import { stringify } from "yaml";
import { SIM_SENSITIVE_ROLES } from "../rbac.ts";
import { DEFINITIONS } from "../definitions.ts";
import type { SimResource } from "../model.ts";
import { podStatusRead } from "../kubernetes.ts";
import { resourceProtoSpec } from "../resource_specs.ts";
import { Code, type HandlerTable, type SimCall, SimError } from "./types.ts";

const C = "/cosi.resource.State/";

/** A resource as COSI sends it: both spec encodings, as Talos does (TALOS_API.md §6.4). */
export function toWire(r: SimResource) {
  const now = { seconds: String(Math.floor(Date.now() / 1000) - 3600), nanos: 0 };
  return {
    metadata: {
      namespace: r.namespace,
      type: r.type,
      id: r.id,
      version: String(r.version),
      owner: r.owner,
      phase: "running",
      created: now,
      updated: now,
      finalizers: [],
      labels: r.labels ?? {},
      annotations: r.annotations ?? {},
    },
    spec: { yaml_spec: r.yamlSpec ?? stringify(r.spec), proto_spec: r.protoSpec ?? resourceProtoSpec(r.type, r.spec) },
  };
}

/** Talos' checks: the exact canonical type, an existing namespace, admin for sensitive types. */
export function check(call: SimCall, namespace: string, type: string) {
  const def = DEFINITIONS.find((d) => d.type === type);
  if (!def) throw new SimError(Code.PERMISSION_DENIED, `resource type "${type}" is not supported`);
  const namespaces = new Set(DEFINITIONS.map((d) => d.defaultNamespace));
  if (!namespace || !namespaces.has(namespace)) {
    throw new SimError(Code.PERMISSION_DENIED, `namespace "${namespace}" is not supported`);
  }
  if (def.sensitivity === "sensitive" && !call.roles.some((r) => SIM_SENSITIVE_ROLES.includes(r))) {
    throw new SimError(Code.PERMISSION_DENIED, "not authorized");
  }
}

const STATIC_POD_STATUS = "StaticPodStatuses.kubernetes.talos.dev";

export const cosiHandlers: HandlerTable = {
  unary: {
    [`${C}Get`]: (call, req) => {
      check(call, req.namespace, req.type);
      const r = call.cluster.resources(call.node).find((x) =>
        x.namespace === req.namespace && x.type === req.type && x.id === req.id
      );
      if (!r) throw new SimError(Code.NOT_FOUND, `resource ${req.type}(${req.namespace}/${req.id}) doesn't exist`);
      if (r.type === STATIC_POD_STATUS) podStatusRead(call.node, r.id);
      return { resource: toWire(r) };
    },
  },
  stream: {
    [`${C}List`]: async (call, req, send) => {
      check(call, req.namespace, req.type);
      for (const r of call.cluster.resources(call.node)) {
        if (r.namespace !== req.namespace || r.type !== req.type) continue;
        if (r.type === STATIC_POD_STATUS) podStatusRead(call.node, r.id);
        await send({ resource: toWire(r) });
      }
    },
  },
};
