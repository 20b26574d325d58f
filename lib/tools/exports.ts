/**
 * @module talos_kubeconfig and talos_etcd_snapshot: credentials and backups
 * go to a local file (0600, atomic, no overwrite unless asked); the agent
 * sees only the path, size and sha256.
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { checkTarget, writeLocalFile } from "../local_file.ts";
import { targetNodes } from "../talos/session.ts";
import { fileFromTarGz } from "../talos/tar.ts";
import { defineTool, WRITES_LOCAL } from "./define.ts";
import { context, localPath, localTarget, nodeName, overwrite } from "./params.ts";

const MAX_KUBECONFIG_ARCHIVE = 4 << 20;
/** A snapshot of a large etcd takes minutes; the stream still has a deadline. */
const SNAPSHOT_TIMEOUT_MS = 15 * 60_000;

const path = localPath("Absolute local path to write (on the machine running talos-mcp).");
const node = v.optional(v.pipe(nodeName, v.description("One control-plane node; default: the context's first node.")));
const written = { path: v.string(), bytes: v.number(), sha256: v.string(), node: v.string() };

export const kubeconfigTool = defineTool({
  name: "talos_kubeconfig",
  title: "Cluster: kubeconfig to file",
  description: "Write the cluster's admin kubeconfig to a local file (mode 0600) and return its path, size " +
    "and sha256, never its content. Use to give kubectl access; needs os:admin.",
  risk: "change",
  annotations: WRITES_LOCAL,
  rpcs: ["/machine.MachineService/Kubeconfig"],
  input: { context, node, path, overwrite },
  output: written,
  run: async (args, ctx) => {
    checkTarget(localTarget(args, ctx)); // before the RPC: a refused path costs no credentials in flight
    const session = await ctx.session(args.context);
    const target = args.node ?? targetNodes(session.ctx)[0];
    const chunks: Buffer[] = [];
    let size = 0;
    for await (
      const m of session.api.machine.Kubeconfig({}, {
        node: target,
        signal: ctx.signal,
      })
    ) {
      size += m.bytes?.length ?? 0;
      if (size > MAX_KUBECONFIG_ARCHIVE) {
        throw new ToolError(`The kubeconfig archive from ${target} exceeds 4 MiB; refusing it.`, "TOO_LARGE");
      }
      if (m.bytes?.length) chunks.push(Buffer.from(m.bytes));
    }
    let kubeconfig: Buffer | undefined;
    try {
      kubeconfig = fileFromTarGz(Buffer.concat(chunks), "kubeconfig");
    } catch (err) {
      throw new ToolError(`${target} sent a kubeconfig archive that is not gzip tar: ${(err as Error).message}.`);
    }
    if (!kubeconfig) throw new ToolError(`The archive from ${target} holds no file named kubeconfig.`);
    const file = await writeLocalFile(localTarget(args, ctx), (write) => Promise.resolve(write(kubeconfig)));
    return { ...file, node: target };
  },
});

export const etcdSnapshotTool = defineTool({
  name: "talos_etcd_snapshot",
  title: "etcd: snapshot to file",
  description: "Stream an etcd snapshot from one control-plane node into a local file (mode 0600); returns " +
    "path, size and sha256. Use before upgrades or risky changes; can take minutes on a large cluster.",
  risk: "operate",
  annotations: WRITES_LOCAL,
  rpcs: ["/machine.MachineService/EtcdSnapshot"],
  input: { context, node, path, overwrite },
  output: written,
  run: async (args, ctx) => {
    checkTarget(localTarget(args, ctx));
    const session = await ctx.session(args.context);
    const target = args.node ?? targetNodes(session.ctx)[0];
    const file = await writeLocalFile(localTarget(args, ctx), async (write) => {
      for await (
        const m of session.api.machine.EtcdSnapshot({}, {
          node: target,
          signal: ctx.signal,
          timeoutMs: Math.max(SNAPSHOT_TIMEOUT_MS, ctx.config.callTimeoutMs),
        })
      ) if (m.bytes?.length) write(m.bytes);
    }, (bytes) => {
      if (bytes === 0) throw new ToolError(`${target} sent an empty snapshot; nothing was written.`);
    });
    return { ...file, node: target };
  },
});
