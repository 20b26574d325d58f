/** @module COSI resources: talos_resource_definitions and talos_get. */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { definitions, getResource, listResources, resolveType, type Resource } from "../talos/cosi.ts";
import { targetNodes } from "../talos/session.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { certFingerprint, context, insecureArgs, more, nodeName, nodes, perNodeOutput } from "./params.ts";
import { insecureTarget, nodesWithMore, onInsecureNode, perNode, withLimitNote } from "./per_node.ts";
import type { ApiSession } from "../talos/session.ts";

export const resourceDefinitionsTool = defineTool({
  name: "talos_resource_definitions",
  title: "Resource: definitions",
  description: "The COSI resource types a node serves, with aliases and default namespaces. Call once " +
    "before talos_get to find the type to ask for; sensitive types need an os:admin certificate.",
  annotations: READ_ONLY,
  input: {
    context,
    node: v.optional(v.pipe(nodeName, v.description("Node to ask; default: the context's first node."))),
    filter: v.optional(
      v.pipe(v.string(), v.maxLength(100), v.description("Case-insensitive substring of type or alias.")),
    ),
  },
  output: {
    node: v.string(),
    definitions: v.array(v.object({
      type: v.string(),
      namespace: v.string(),
      aliases: v.array(v.string()),
      sensitive: v.optional(v.boolean()),
    })),
  },
  run: async (args, ctx) => {
    const session = await ctx.session(args.context);
    const node = args.node ?? targetNodes(session.ctx)[0];
    const defs = await definitions(session, node, ctx.signal);
    const f = args.filter?.toLowerCase();
    return {
      node,
      definitions: defs
        .filter((d) => !f || d.type.toLowerCase().includes(f) || d.allAliases.some((a) => a.includes(f)))
        .map((d) => ({
          type: d.type,
          namespace: d.defaultNamespace,
          aliases: d.aliases,
          ...(d.sensitive ? { sensitive: true } : {}),
        })),
    };
  },
});

const resource = v.object({
  id: v.string(),
  version: v.string(),
  phase: v.optional(v.string()),
  owner: v.optional(v.string()),
  updated: v.optional(v.string()),
  labels: v.optional(v.record(v.string(), v.string())),
  spec: v.unknown(),
});

export const getTool = defineTool({
  name: "talos_get",
  title: "Resource: get",
  description: "Any COSI resource by type or alias (e.g. machinestatus, members, links, routes, " +
    "machineconfig), as structured specs per node. Lists a type when resource_id is absent. Find types " +
    "with talos_resource_definitions first. Secrets in specs are masked. insecure: a node in maintenance mode.",
  annotations: READ_ONLY,
  input: {
    context,
    nodes,
    resource_type: v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(200),
      v.description("Type, alias or full name, e.g. machinestatus or MachineStatuses.runtime.talos.dev."),
    ),
    resource_id: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(500), v.description("One resource id."))),
    namespace: v.optional(
      v.pipe(v.string(), v.minLength(1), v.maxLength(100), v.description("Default: the type's namespace.")),
    ),
    limit: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000), v.description("Max resources per node (100).")),
      100,
    ),
    ...insecureArgs,
  },
  output: {
    type: v.string(),
    namespace: v.string(),
    ...perNodeOutput({ resources: v.array(resource), more, cert_fingerprint: certFingerprint }),
  },
  check: (a, config) => void insecureTarget(a, config),
  run: async (args, ctx) => {
    const target = insecureTarget(args, ctx.config);
    const shape = ({ namespace: _ns, type: _type, ...rest }: Resource) => rest;
    const read = async (s: ApiSession, node: string, type: string, namespace: string) => {
      if (args.resource_id) {
        const r = await getResource(s, node, namespace, type, args.resource_id, ctx.signal);
        return { resources: [shape(r)] };
      }
      const { items, more } = await listResources(s, node, namespace, type, args.limit, ctx.signal);
      return { resources: items.map(shape), ...(more ? { more: true } : {}) };
    };
    if (target) {
      // Maintenance mode: one node, its own definitions; the type is resolved on the same connection.
      let named: { type: string; namespace: string } = { type: args.resource_type, namespace: args.namespace ?? "" };
      const result = await onInsecureNode(ctx, target, async (s, node) => {
        const def = resolveType(await definitions(s, node, ctx.signal), args.resource_type);
        named = { type: def.type, namespace: args.namespace ?? def.defaultNamespace };
        return await read(s, node, named.type, named.namespace);
      });
      return { ...named, ...result };
    }
    const session = await ctx.session(args.context);
    const first = targetNodes(session.ctx, args.nodes)[0];
    const def = resolveType(await definitions(session, first, ctx.signal), args.resource_type);
    const namespace = args.namespace ?? def.defaultNamespace;
    if (!namespace) {
      throw new ToolError(`Type ${def.type} has no default namespace; pass namespace.`, "INVALID_ARGUMENT");
    }
    // Type and namespace are said once at the top; each resource keeps only what differs. Secrets in
    // specs are masked by the server's pass over every result (lib/server.ts), nothing is cut before it.
    const result = await perNode(ctx, args, (s, node) => read(s, node, def.type, namespace));
    const capped = nodesWithMore(result);
    return withLimitNote(
      { type: def.type, namespace, ...result },
      capped
        ? {
          tool_limit: `listing stopped at limit=${args.limit} resources on ${capped} node(s) (more: true)`,
          ask: "raise limit (up to 1000), or pass resource_id",
        }
        : undefined,
    );
  },
});
