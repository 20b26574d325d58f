/**
 * @module talos_support_bundle: what a bug report needs from each chosen node (version, services, the tail of
 * every system service log, kernel log, events, etcd status, the main COSI resources, the machine config),
 * masked as tool results are, in one local .tar.gz (0600, atomic, no clobber). The agent sees the path, size,
 * sha256 and a table of contents, never the content. Every piece has a deadline; every file and the whole
 * bundle have a size cap; what failed is listed in the bundle's errors.txt and in the result.
 */
import * as v from "valibot";
import { stringify } from "yaml";
import { ToolError } from "../errors.ts";
import { checkTarget, writeLocalFile } from "../local_file.ts";
import { maskText, maskValue } from "../secrets.ts";
import { tailLines } from "../talos/bounded.ts";
import { definitions, listResources, resolveType } from "../talos/cosi.ts";
import { readEvents } from "../talos/events.ts";
import { fanOut } from "../talos/fan_out.ts";
import { readKernelLog } from "../talos/kernel_log.ts";
import { type TalosSession, targetNodes } from "../talos/session.ts";
import { type TarFile, tarGz } from "../talos/tar.ts";
import { defineTool, type ToolContext, WRITES_LOCAL } from "./define.ts";
import { context, localPath, localTarget, nodes, overwrite } from "./params.ts";
import { shapeOutcomes } from "./per_node.ts";

const FILE_CAP = 1 << 20;
const TOTAL_CAP = 32 << 20;
const RESOURCES_PER_TYPE = 500;
/** Pieces of one node read at once: enough to overlap waits, few enough not to crowd the node. */
const PIECES_AT_ONCE = 4;

/** The COSI types a bug report starts from (the machine config is its own piece). */
const TYPES = [
  "MachineStatuses.runtime.talos.dev",
  "Members.cluster.talos.dev",
  "NodeAddresses.net.talos.dev",
  "AddressStatuses.net.talos.dev",
  "LinkStatuses.net.talos.dev",
  "RouteStatuses.net.talos.dev",
  "ResolverStatuses.net.talos.dev",
  "HostnameStatuses.net.talos.dev",
  "TimeStatuses.v1alpha1.talos.dev",
  "StaticPodStatuses.kubernetes.talos.dev",
  "VolumeStatuses.block.talos.dev",
  "MountStatuses.runtime.talos.dev",
  "Diagnostics.runtime.talos.dev",
  "ExtensionStatuses.runtime.talos.dev",
];

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 60);
const json = (value: unknown) => JSON.stringify(maskValue(value), null, 2) + "\n";

/** One piece of a node's part: a name for errors.txt and what it reads (files named under the node's folder). */
interface Piece {
  name: string;
  read(signal: AbortSignal): Promise<Array<[string, string]>>;
}

function pieces(s: TalosSession, node: string, logLines: number, timeoutMs: number): Piece[] {
  const call = (signal: AbortSignal) => ({ node, signal, timeoutMs });
  const one = (name: string, file: string, read: (signal: AbortSignal) => Promise<unknown>): Piece => ({
    name,
    read: async (signal) => [[file, json(await read(signal))]],
  });
  const resources = async (signal: AbortSignal, type: string, file: string): Promise<Array<[string, string]>> => {
    const def = resolveType(await definitions(s, node, signal), type);
    const { items, more } = await listResources(s, node, def.defaultNamespace, def.type, RESOURCES_PER_TYPE, signal);
    const note = more ? `# listing stopped at ${RESOURCES_PER_TYPE} resources\n` : "";
    return [[file, note + stringify(maskValue(items))]];
  };
  return [
    one("version", "version.json", async (sig) => (await s.api.machine.Version({}, call(sig))).messages?.[0]),
    one("services", "services.json", async (sig) => (await s.api.machine.ServiceList({}, call(sig))).messages?.[0]),
    {
      name: "service logs",
      read: async (signal) => {
        const list = (await s.api.machine.ServiceList({}, call(signal))).messages?.[0]?.services ?? [];
        const out: Array<[string, string]> = [];
        for (const svc of list) {
          const stream = s.api.machine.Logs(
            { namespace: "system", driver: "CONTAINERD", id: svc.id, follow: false, tail_lines: logLines },
            call(signal),
          );
          const tail = await tailLines(stream, { lines: logLines, maxLineBytes: 4096, map: maskText });
          out.push([`logs/${safe(svc.id)}.log`, tail.lines.join("\n") + "\n"]);
        }
        return out;
      },
    },
    {
      name: "dmesg",
      read: async (signal) => [[
        "dmesg.log",
        (await readKernelLog(s, node, {
          records: logLines * 10,
          deadline_ms: timeoutMs,
          signal,
        })).map(maskText).join("\n") + "\n",
      ]],
    },
    one(
      "events",
      "events.json",
      (signal) => readEvents(s, node, { tail_seconds: 0, tail_count: 500, signal, deadline_ms: timeoutMs }),
    ),
    {
      name: "etcd status",
      read: async (signal) => {
        try {
          return [["etcd-status.json", json((await s.api.machine.EtcdStatus({}, call(signal))).messages?.[0])]];
        } catch (err) {
          if (err instanceof ToolError && err.code === "FAILED_PRECONDITION") return []; // a worker: no etcd
          throw err;
        }
      },
    },
    ...TYPES.map((type) => ({
      name: type,
      read: (signal: AbortSignal) => resources(signal, type, `resources/${type.split(".")[0]}.yaml`),
    })),
    {
      name: "machine config",
      read: (signal) => resources(signal, "MachineConfigs.config.talos.dev", "machine-config.yaml"),
    },
  ];
}

interface NodePart {
  files: TarFile[];
  errors: string[];
}

/** Reads every piece of one node, each under its own deadline; throws only when none could be read. */
async function collect(s: TalosSession, node: string, logLines: number, ctx: ToolContext): Promise<NodePart> {
  const timeoutMs = ctx.config.callTimeoutMs;
  const dir = safe(node);
  const part: NodePart = { files: [], errors: [] };
  const list = pieces(s, node, logLines, timeoutMs);
  const outcomes = await fanOut(list.map((p) => p.name), PIECES_AT_ONCE, async (name) => {
    const piece = list.find((p) => p.name === name)!;
    // A piece of several calls (service logs) shares one deadline: the piece, not each call, is bounded.
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs * 2)]);
    return await piece.read(signal);
  });
  for (const o of outcomes) {
    if (o.error !== undefined) {
      part.errors.push(`${node} ${o.node}: [${o.code}] ${maskText(o.error)}`);
      continue;
    }
    for (const [file, text] of o.value!) {
      part.files.push({ name: `${dir}/${file}`, content: capped(maskText(text)) });
    }
  }
  if (!part.files.length) {
    throw new ToolError(`nothing could be read from ${node}: ${outcomes[0]?.error ?? "no pieces"}`, outcomes[0]?.code);
  }
  return part;
}

function capped(text: string): Buffer {
  const buf = Buffer.from(text);
  if (buf.length <= FILE_CAP) return buf;
  return Buffer.concat([buf.subarray(0, FILE_CAP), Buffer.from(`\n…[cut at ${FILE_CAP} bytes]\n`)]);
}

export const supportBundleTool = defineTool({
  name: "talos_support_bundle",
  title: "Nodes: support bundle to file",
  description: "Collect what a bug report needs from the nodes (version, services, service log tails, dmesg, " +
    "events, etcd status, main resources, machine config), secrets masked, into a local .tar.gz (0600); " +
    "returns path, size, sha256 and the file list, never the content. Machine config needs os:admin.",
  annotations: WRITES_LOCAL,
  // A local file of masked diagnostics, like an etcd snapshot: operating, not changing.
  risk: "operate",
  input: {
    context,
    nodes,
    path: localPath("Absolute local path of the .tar.gz to write."),
    overwrite,
    log_lines: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(5000), v.description("Lines per service log (500).")),
      500,
    ),
  },
  output: {
    path: v.optional(v.string()),
    bytes: v.optional(v.number()),
    sha256: v.optional(v.string()),
    files: v.optional(v.array(v.object({ name: v.string(), bytes: v.number() }))),
    errors: v.optional(v.array(v.string())),
    nodes: v.array(v.object({
      node: v.string(),
      hostname: v.optional(v.string()),
      files: v.optional(v.number()),
      failed_pieces: v.optional(v.number()),
      error: v.optional(v.string()),
      code: v.optional(v.string()),
    })),
  },
  run: async (args, ctx) => {
    checkTarget(localTarget(args, ctx));
    const session = await ctx.session(args.context);
    const targets = targetNodes(session.ctx, args.nodes);
    let done = 0;
    const outcomes = await fanOut(targets, ctx.config.fanOutConcurrency, async (node) => {
      try {
        return await collect(session, node, args.log_lines, ctx);
      } finally {
        void ctx.progress(++done, targets.length, `${node} collected`);
      }
    });
    const entries = shapeOutcomes(
      session,
      outcomes.map((o) => ({
        ...o,
        value: o.value && { files: o.value.files.length, failed_pieces: o.value.errors.length },
      })),
    );
    // Every node failed: no bundle worth writing; the per-node errors are the result (an error).
    if (outcomes.every((o) => o.error !== undefined)) return { nodes: entries };
    const errors = outcomes.flatMap((o) => o.value ? o.value.errors : [`${o.node}: [${o.code}] ${o.error}`]);
    const files: TarFile[] = [];
    let total = 0;
    for (const f of outcomes.flatMap((o) => o.value?.files ?? [])) {
      if (total + f.content.length > TOTAL_CAP) {
        errors.push(`${f.name}: left out, the bundle reached its ${TOTAL_CAP >> 20} MiB cap`);
        continue;
      }
      total += f.content.length;
      files.push(f);
    }
    files.unshift({ name: "errors.txt", content: Buffer.from(errors.length ? errors.join("\n") + "\n" : "none\n") });
    const archive = tarGz(files);
    const file = await writeLocalFile(localTarget(args, ctx), (write) => Promise.resolve(write(archive)));
    return {
      ...file,
      files: files.map((f) => ({ name: f.name, bytes: f.content.length })),
      ...(errors.length ? { errors } : {}),
      nodes: entries,
    };
  },
});
