/** @module talos_contexts: the clusters this server can reach, from the talosconfig. */
import * as v from "valibot";
import { messageOf } from "../errors.ts";
import { defineTool, READ_ONLY } from "./define.ts";

const contextEntry = v.object({
  name: v.string(),
  current: v.optional(v.boolean()),
  endpoints: v.optional(v.array(v.string())),
  nodes: v.optional(v.array(v.string())),
  roles: v.optional(v.array(v.string())),
  expires: v.optional(v.string()),
  expired: v.optional(v.boolean()),
  allowed: v.optional(v.pipe(v.boolean(), v.description("false when TALOS_MCP_ALLOWED_CONTEXTS excludes it"))),
  error: v.optional(v.string()),
});

export const contextsTool = defineTool({
  name: "talos_contexts",
  title: "Config: contexts",
  description: "The talosconfig's contexts (clusters): endpoints, nodes, which is current, and each " +
    "certificate's roles and expiry. No API call; use it to pick the context argument of other tools.",
  annotations: { ...READ_ONLY, openWorldHint: false },
  rpcs: [], // reads the local talosconfig only
  input: {},
  output: { file: v.string(), current: v.string(), contexts: v.array(contextEntry) },
  run: (_args, ctx) => {
    const file = ctx.talosconfig();
    const names = Object.keys(file.contexts);
    let current = file.current;
    try {
      current = ctx.resolveContext().name; // TALOS_CONTEXT overrides the file's choice
    } catch { /* a broken default context is reported in its own entry */ }
    const allowed = ctx.config.allowedContexts;
    const now = Date.now();
    const contexts = names.map((name) => {
      const head = {
        name,
        ...(name === current ? { current: true } : {}),
        ...(allowed.length && !allowed.includes(name) ? { allowed: false } : {}),
      };
      try {
        // Never the key or certificate themselves: only what they say about access.
        const c = ctx.resolveContext(name);
        return {
          ...head,
          endpoints: c.endpoints,
          nodes: c.nodes,
          roles: c.cert.roles,
          expires: c.cert.notAfter.toISOString(),
          ...(c.cert.notAfter.getTime() < now ? { expired: true } : {}),
        };
      } catch (err) {
        return { ...head, error: messageOf(err) };
      }
    });
    return Promise.resolve({ file: file.path, current, contexts });
  },
});
