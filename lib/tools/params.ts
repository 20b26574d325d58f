/**
 * @module Parameters and result pieces shared by many tools. What `context`, `nodes` and `confirm` mean is said
 * once, in the server instructions (lib/server.ts), not in every tool's schema (lib/tools/schema.ts).
 */
import { isIP } from "node:net";
import * as v from "valibot";
import type { Target } from "../local_file.ts";
import { HOSTNAME_RE } from "../policy/nodes.ts";

export const nodeName = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, "a node must not be empty"),
  v.maxLength(253, "a node name is at most 253 characters"),
  // What apid accepts as a `node` target: an IP literal or a hostname, never host:port.
  v.check(
    (s) => isIP(s) !== 0 || HOSTNAME_RE.test(s),
    "a node is an IP address or hostname without a port, e.g. 10.5.0.2",
  ),
);

export const context = v.optional(
  v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(128),
  ),
);

export const nodes = v.optional(
  v.pipe(
    v.array(nodeName),
    v.maxLength(64, "at most 64 nodes per call"),
  ),
);

/**
 * The one shape of "this node's list stopped at its limit": `more: true`, present only then. The
 * tool-level `truncated.tool_limit` says which limit (and, where known, how much was left out) and
 * `truncated.ask` how to get the rest. A count is not used: a stream cut at its limit cannot know it.
 */
export const more = v.literal(true); // described once, in the server instructions

/**
 * `{ nodes: [{node, hostname?, error?, code?, ...entries}] }`: the result of per-node tools. Only the
 * tool's own entries are listed; the four every entry has are described once, in the server instructions.
 */
export function perNodeOutput(entries: v.ObjectEntries): v.ObjectEntries {
  const optional = Object.fromEntries(
    Object.entries(entries).map(([k, s]) => [k, v.optional(s as v.GenericSchema)]),
  );
  return { nodes: v.array(v.object(optional)) };
}

/** `nodes` of mutating tools: required and non-empty, never "the context's nodes" by default. */
export const explicitNodes = v.pipe(
  v.array(nodeName),
  v.minLength(1, "name at least one node"),
  v.maxLength(64, "at most 64 nodes per call"),
);

/** Added by the server to every tool with `confirm: true` (lib/guards/pipeline.ts checks it before anything else). */
export const confirm = v.optional(
  v.boolean(),
);

/**
 * Maintenance mode (a node booted without a config): talk to it without verifying its certificate,
 * pinned instead (lib/talos/insecure.ts). In a tool's schema only with TALOS_MCP_ENABLE_INSECURE
 * (lib/tools/schema.ts); a call is refused unless the node is in TALOS_MCP_INSECURE_ALLOWED_NODES.
 */
export const insecureArgs = {
  insecure: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        "Talk to a node in maintenance mode (booted without a config): TLS without verifying the node, its " +
          "certificate pinned instead. Needs TALOS_MCP_ENABLE_INSECURE on the server; never for configured nodes.",
      ),
    ),
  ),
  endpoint: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(64),
      v.description("With insecure: the node's IP or IP:port (port 50000 by default)."),
    ),
  ),
  cert_fingerprint: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(100),
      v.description(
        "With insecure: SHA-256 (hex) of the node's certificate to insist on; results report the one seen.",
      ),
    ),
  ),
};

/** In results of calls that may be insecure: the certificate the node presented, to pin next time. */
export const certFingerprint = v.pipe(
  v.string(),
  v.description("With insecure: SHA-256 of the certificate the node presented; pass it as cert_fingerprint next time."),
);

/** The local file a file-writing tool writes (absolute, on the machine running talos-mcp). */
export const localPath = (what: string) =>
  v.pipe(
    v.string(),
    v.minLength(2),
    v.maxLength(4096),
    v.check((p) => !p.includes("\0"), "a path has no NUL bytes"),
    v.description(what),
  );

export const overwrite = v.optional(
  v.pipe(v.boolean(), v.description("Replace an existing file (default false).")),
  false,
);

/**
 * Where a file-writing tool writes: its path and overwrite arguments, and the talosconfig in use, which it
 * never replaces (none when the talosconfig cannot be read: the call fails on its session anyway).
 */
export function localTarget(
  args: { path: string; overwrite: boolean },
  ctx: { talosconfig(): { path: string } },
): Target {
  let protect: string[] = [];
  try {
    protect = [ctx.talosconfig().path];
  } catch {
    // no readable talosconfig
  }
  return { path: args.path, overwrite: args.overwrite, protect };
}
