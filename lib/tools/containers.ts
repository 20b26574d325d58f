/** @module talos_containers and talos_processes: what runs on each node. */
import * as v from "valibot";
import { maskText } from "../secrets.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode, withLimitNote } from "./per_node.ts";

/** `CONTAINER_RUNNING` / `SANDBOX_READY` / `RUNNING` → `running` / `ready` / `running`. */
const state = (status: string) => status.replace(/^(CONTAINER|SANDBOX)_/, "").toLowerCase();

export const containersTool = defineTool({
  name: "talos_containers",
  title: "Node: containers",
  description: "Containers on each node: Kubernetes pods (namespace k8s.io) or Talos system containers " +
    "(system), with pod, image and state. Use to see what a node runs or find an id for talos_logs.",
  annotations: READ_ONLY,
  input: {
    context,
    nodes,
    namespace: v.optional(
      v.pipe(v.picklist(["k8s.io", "system"]), v.description("k8s.io (Kubernetes, default) or system (Talos).")),
      "k8s.io",
    ),
  },
  output: perNodeOutput({
    containers: v.array(v.object({
      id: v.string(),
      pod: v.optional(v.string()),
      name: v.string(),
      image: v.string(),
      state: v.string(),
      pid: v.optional(v.number()),
    })),
  }),
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      const res = await s.api.machine.Containers({
        namespace: args.namespace,
        driver: args.namespace === "k8s.io" ? "CRI" : "CONTAINERD",
      }, { node, signal: ctx.signal });
      const containers = (res.messages?.[0]?.containers ?? [])
        // Pod sandboxes (id without ":container") are pause containers: the pod is named on each container.
        .filter((c) => args.namespace !== "k8s.io" || c.id.includes(":"))
        .map((c) => ({
          id: c.id,
          ...(c.pod_id ? { pod: c.pod_id } : {}),
          name: c.name || c.id,
          image: c.image,
          state: state(c.status),
          ...(c.pid ? { pid: c.pid } : {}),
        }));
      return { containers };
    }),
});

const MAX_ARGS = 300;
const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) + "…" : s);

export const processesTool = defineTool({
  name: "talos_processes",
  title: "Node: processes",
  description: "Processes on each node, top `limit` by CPU time or resident memory, with command line. " +
    "Use to find what consumes a node's CPU or memory.",
  annotations: READ_ONLY,
  input: {
    context,
    nodes,
    sort: v.optional(
      v.pipe(v.picklist(["cpu", "memory"]), v.description("cpu (cumulative CPU seconds, default) or memory (RSS).")),
      "cpu",
    ),
    limit: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(500), v.description("Processes per node (30).")),
      30,
    ),
  },
  output: {
    ...perNodeOutput({
      total: v.number(),
      processes: v.array(v.object({
        pid: v.number(),
        ppid: v.number(),
        state: v.string(),
        threads: v.number(),
        cpu_seconds: v.number(),
        rss_bytes: v.number(),
        command: v.string(),
        args: v.string(),
      })),
    }),
  },
  run: async (args, ctx) => {
    let cut = 0;
    const result = await perNode(ctx, args, async (s, node) => {
      const res = await s.api.machine.Processes({}, {
        node,
        signal: ctx.signal,
      });
      const all = (res.messages?.[0]?.processes ?? []).map((p) => ({
        pid: p.pid,
        ppid: p.ppid,
        state: p.state,
        threads: p.threads,
        cpu_seconds: Math.round(Number(p.cpu_time) * 100) / 100,
        rss_bytes: Number(p.resident_memory),
        command: p.command,
        // Command lines carry flags such as --token=...; masked here because this is where they are text.
        args: clip(ctx.config.showSecrets ? p.args : maskText(p.args), MAX_ARGS),
      }));
      all.sort((a, b) => args.sort === "memory" ? b.rss_bytes - a.rss_bytes : b.cpu_seconds - a.cpu_seconds);
      cut += Math.max(0, all.length - args.limit);
      return { total: all.length, processes: all.slice(0, args.limit) };
    });
    return withLimitNote(
      result,
      cut
        ? {
          tool_limit: `${cut} processes beyond limit=${args.limit} left out (see total per node)`,
          ask: "raise limit (up to 500) or sort by memory",
        }
        : undefined,
    );
  },
});
