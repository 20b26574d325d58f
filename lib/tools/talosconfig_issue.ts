/**
 * @module talos_talosconfig_issue: mint a talosconfig for one role with GenerateClientConfiguration (a client
 * certificate signed by the cluster's OS CA) into a local 0600 file. The key never leaves the process except
 * into that file: the result names the file, the role, the expiry, the context and the endpoints.
 */
import { X509Certificate } from "node:crypto";
import * as v from "valibot";
import { parse as parseYaml, stringify } from "yaml";
import { parseDuration } from "../duration.ts";
import { ToolError } from "../errors.ts";
import { checkTarget, writeLocalFile } from "../local_file.ts";
import { certInfo } from "../talos/talosconfig.ts";
import { targetNodes } from "../talos/session.ts";
import { defineTool, WRITES_LOCAL } from "./define.ts";
import { context, localPath, localTarget, nodeName, overwrite } from "./params.ts";

/** Talos' roles a person may hold (os:impersonator is apid's own, for proxying, and is not offered). */
const ROLES = [
  "os:reader",
  "os:operator",
  "os:admin",
  "os:etcd:backup",
  "os:meta:writer",
  "os:image:verifier",
] as const;

export const talosconfigIssueTool = defineTool({
  name: "talos_talosconfig_issue",
  title: "Cluster: issue talosconfig",
  description: "Mint a talosconfig for one Talos role (default os:reader) and lifetime (default 24h, at most " +
    "the CA's) into a local 0600 file; returns path, role, expiry, context and endpoints, never the key. Use to " +
    "hand out least-privilege access; needs os:admin.",
  annotations: WRITES_LOCAL,
  // Mints a credential: an admin act.
  risk: "change",
  rpcs: ["/machine.MachineService/GenerateClientConfiguration"],
  input: {
    context,
    node: v.optional(v.pipe(nodeName, v.description("A control plane to sign it; default: the context's first node."))),
    path: localPath("Absolute local path to write."),
    overwrite,
    role: v.optional(v.picklist(ROLES), "os:reader"),
    lifetime: v.optional(v.pipe(v.string(), v.maxLength(32), v.description("e.g. 1h, 24h (default), 720h.")), "24h"),
  },
  output: {
    path: v.string(),
    bytes: v.number(),
    sha256: v.string(),
    role: v.string(),
    expires: v.string(),
    context: v.string(),
    endpoints: v.array(v.string()),
    node: v.string(),
  },
  check: (args) => {
    const ms = parseDuration(args.lifetime);
    if (!ms) {
      throw new ToolError(
        `lifetime "${args.lifetime}" is not a positive duration like 1h, 24h or 720h.`,
        "INVALID_ARGUMENT",
      );
    }
  },
  run: async (args, ctx) => {
    checkTarget(localTarget(args, ctx)); // before the RPC: no credential is minted for a refused path
    const session = await ctx.session(args.context);
    const ttlMs = parseDuration(args.lifetime)!;
    // Talos signs whatever lifetime is asked; a certificate outliving its CA would fail verification early.
    const caEnd = new Date(new X509Certificate(session.ctx.caPem).validTo);
    if (Date.now() + ttlMs > caEnd.getTime()) {
      throw new ToolError(
        `lifetime ${args.lifetime} outlives the cluster CA, which expires ${caEnd.toISOString()}; ask for less.`,
        "INVALID_ARGUMENT",
      );
    }
    const target = args.node ?? targetNodes(session.ctx)[0];
    const res = await session.api.machine.GenerateClientConfiguration({
      roles: [args.role],
      crt_ttl: { seconds: String(Math.floor(ttlMs / 1000)), nanos: 0 },
    }, { node: target, signal: ctx.signal });
    const m = res.messages?.[0];
    if (!m?.talosconfig?.length || !m.crt?.length) throw new ToolError(`${target} returned no client configuration.`);
    const issued = certInfo(Buffer.from(m.crt).toString("utf8"));
    if (issued.roles.join(",") !== args.role) {
      throw new ToolError(
        `${target} signed a certificate for ${issued.roles.join(", ") || "no role"}, not ` +
          `${args.role}; nothing was written.`,
      );
    }
    const doc = parseYaml(Buffer.from(m.talosconfig).toString("utf8")) as {
      context?: string;
      contexts?: Record<string, Record<string, unknown>>;
    };
    const name = doc?.context;
    const entry = name ? doc.contexts?.[name] : undefined;
    if (!name || !entry) throw new ToolError(`${target} returned a talosconfig without its current context.`);
    // Talos leaves endpoints empty for the client to fill in: the ones this server reached it through.
    const endpoints = session.ctx.endpoints;
    entry.endpoints = endpoints;
    if (session.ctx.nodes.length) entry.nodes = session.ctx.nodes;
    const file = await writeLocalFile(
      localTarget(args, ctx),
      (write) => Promise.resolve(write(Buffer.from(stringify(doc)))),
    );
    return {
      ...file,
      role: args.role,
      expires: issued.notAfter.toISOString(),
      context: name,
      endpoints,
      node: target,
    };
  },
});
