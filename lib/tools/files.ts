/**
 * @module talos_list_files and talos_read_file: node files, bounded. Paths are
 * declared (`paths`) so lib/guards/pipeline.ts checks them against the allowlist before
 * any RPC; listings are capped and filtered to the allowed prefixes, reads stop
 * at max_bytes and cancel the stream.
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { isUnder } from "../policy/paths.ts";
import { isSecretPath, masked, maskFile } from "../secrets.ts";
import { readBytes } from "../talos/bounded.ts";
import { renderMode } from "../talos/file_mode.ts";
import type { TalosSession } from "../talos/session.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { context, more, nodes, perNodeOutput } from "./params.ts";
import { perNode, withLimitNote } from "./per_node.ts";

const MAX_ENTRIES = 500;

const pathParam = (what: string) =>
  v.pipe(v.string(), v.minLength(1), v.maxLength(4096), v.description(`Absolute path of the ${what} on the node.`));

const iso = (unix: string) => new Date(Number(unix) * 1000).toISOString().replace(".000Z", "Z");

export const listFilesTool = defineTool({
  name: "talos_list_files",
  title: "Files: list",
  description: "Directory listing on each node (name, size, mode like ls, mtime, link target); recurse with " +
    "max_depth. Capped at 500 entries per node; TALOS_MCP_ALLOWED_PATHS may restrict paths.",
  annotations: READ_ONLY,
  paths: ["path"],
  input: {
    context,
    nodes,
    path: pathParam("directory (or file)"),
    recurse: v.optional(v.pipe(v.boolean(), v.description("Descend into subdirectories (false).")), false),
    max_depth: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.maxValue(32),
        v.description("Levels to descend (1 = children)."),
      ),
    ),
  },
  output: perNodeOutput({
    entries: v.array(v.object({
      name: v.string(),
      size: v.number(),
      mode: v.string(),
      modified: v.string(),
      link: v.optional(v.string()),
      error: v.optional(v.string()),
    })),
    more,
  }),
  run: async (args, ctx) => {
    const depth = args.max_depth ?? (args.recurse ? 0 : 1);
    const allowed = ctx.config.allowedPaths;
    let capped = 0;
    const result = await perNode(ctx, args, async (s, node) => {
      const entries = [];
      let more = false;
      const stream = s.api.machine.List({
        root: args.path,
        recurse: depth !== 1,
        recursion_depth: depth,
      }, { node, signal: ctx.signal });
      for await (const f of stream) {
        // Lexically below an allowed root already; a symlinked root is resolved by Talos, so check where it went.
        const full = f.name || args.path;
        if (f.relative_name === ".") assertResolvedAllowed(args.path, full, node, allowed);
        else if (allowed.length && !allowed.some((p) => isUnder(full, p))) continue;
        if (entries.length >= MAX_ENTRIES) {
          more = true;
          break; // cancels the stream
        }
        entries.push({
          name: f.relative_name === "." ? full : f.relative_name || full,
          size: Number(f.size),
          mode: renderMode(f.mode),
          modified: iso(f.modified),
          ...(f.link ? { link: f.link } : {}),
          ...(f.error ? { error: f.error } : {}),
        });
      }
      if (more) capped++;
      return { entries, ...(more ? { more: true } : {}) };
    });
    return withLimitNote(
      result,
      capped
        ? {
          tool_limit: `listing stopped at ${MAX_ENTRIES} entries on ${capped} node(s) (more: true)`,
          ask: "list a subdirectory, or lower max_depth",
        }
        : undefined,
    );
  },
});

const MAX_READ = 1 << 20;

/** Text unless it has NUL bytes, is not UTF-8, or is mostly control characters. */
function isBinary(data: Buffer, cut: boolean): boolean {
  if (data.includes(0)) return true;
  // A cut may split a multi-byte character: ignore up to 3 trailing bytes.
  const body = cut ? data.subarray(0, Math.max(0, data.length - 3)) : data;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return true;
  }
  let control = 0;
  for (const b of body.subarray(0, 8192)) if (b < 9 || (b > 13 && b < 32)) control++;
  return control > Math.min(body.length, 8192) / 10;
}

/** What List says about the path itself: size (Read does not say), type, and where it resolves to. */
async function stat(s: TalosSession, node: string, path: string, signal: AbortSignal) {
  try {
    for await (
      const f of s.api.machine.List({ root: path, recurse: false }, {
        node,
        signal,
      })
    ) {
      // The root comes first, a symlinked root resolved; returning cancels the rest.
      return { size: Number(f.size), dir: f.is_dir, resolved: f.name || path };
    }
    return new ToolError(`List ${path} on node ${node} returned nothing`, "NOT_FOUND");
  } catch (err) {
    return err as Error;
  }
}

/** With an allowlist, a path that resolves (through a symlink) outside it is refused. */
function assertResolvedAllowed(path: string, resolved: string, node: string, allowed: readonly string[]) {
  if (!allowed.length || allowed.some((p) => isUnder(resolved, p))) return;
  throw new ToolError(
    `${path} on node ${node} resolves to ${resolved}, outside the allowed paths (TALOS_MCP_ALLOWED_PATHS: ` +
      `${allowed.join(", ")}).`,
    "DENIED",
  );
}

export const readFileTool = defineTool({
  name: "talos_read_file",
  title: "Files: read",
  description: "Content of a file on each node (text, or base64 for binary), up to max_bytes and the output " +
    "cap; says truncated and the total size when cut. Needs os:admin; secrets masked; allowlist may apply.",
  annotations: READ_ONLY,
  rpcs: ["/machine.MachineService/Read"], // admin-only: hidden from, and refused for, other certificates
  paths: ["path"],
  input: {
    context,
    nodes,
    path: pathParam("file"),
    max_bytes: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_READ), v.description("Bytes per node (32768).")),
      32768,
    ),
  },
  output: perNodeOutput({
    content: v.string(),
    encoding: v.picklist(["utf-8", "base64"]),
    size: v.number(),
    bytes: v.number(),
    truncated: v.boolean(),
  }),
  run: async (args, ctx) => {
    let cut = 0;
    const mask = !ctx.config.showSecrets;
    // Bytes beyond the output cap would only be cut again after costing memory: never read them.
    const limit = Math.min(args.max_bytes, ctx.config.maxOutputBytes);
    const result = await perNode(ctx, args, async (s, node) => {
      const allowed = ctx.config.allowedPaths;
      const info = stat(s, node, args.path, ctx.signal);
      if (allowed.length) {
        // Checked before reading: a symlink inside an allowed prefix may point anywhere.
        const st = await info;
        if (st instanceof Error) throw st;
        assertResolvedAllowed(args.path, st.resolved, node, allowed);
      }
      const read = await readBytes(
        s.api.machine.Read({ path: args.path }, { node, signal: ctx.signal }),
        limit,
      ).catch((err: unknown) => err as Error);
      const st = await info;
      if (read instanceof Error) {
        if (!(st instanceof Error) && st.dir) {
          throw new ToolError(
            `${args.path} on node ${node} is a directory; list it with talos_list_files.`,
            "INVALID_ARGUMENT",
          );
        }
        throw read;
      }
      const { data, truncated } = read;
      if (truncated) cut++;
      // /proc files report size 0: the total is then what we saw.
      const known = st instanceof Error ? 0 : st.size;
      const size = known >= data.length ? known : data.length;
      const base = { size, bytes: data.length, ...(truncated ? { truncated: true } : {}) };
      if (isBinary(data, truncated) && !/^\/proc\/(\d+|self)\/environ$/.test(args.path)) {
        if (mask && isSecretPath(args.path)) {
          return { ...base, encoding: "utf-8", content: masked(`binary secret file ${args.path}`) };
        }
        return { ...base, encoding: "base64", content: data.toString("base64") };
      }
      const text = data.toString("utf8");
      return { ...base, encoding: "utf-8", content: mask ? maskFile(args.path, text) : text };
    });
    return withLimitNote(
      result,
      cut
        ? {
          tool_limit: `content cut at ${limit} bytes on ${cut} node(s) (see size per node)`,
          ask: limit < args.max_bytes
            ? `the output cap (TALOS_MCP_MAX_OUTPUT=${ctx.config.maxOutputBytes}) bounds a read; raise it to read more`
            : `raise max_bytes (up to ${MAX_READ})`,
        }
        : undefined,
    );
  },
});
