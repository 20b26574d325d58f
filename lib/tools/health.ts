/**
 * @module talos_health: the server-side cluster health check
 * (ClusterService.HealthCheck, what `talosctl health` runs by default) on one control-plane node, with each
 * check's progress and a final verdict.
 */
import * as v from "valibot";
import { parseDuration } from "../duration.ts";
import { ToolError } from "../errors.ts";
import { targetNodes } from "../talos/session.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { context, nodeName } from "./params.ts";

const MAX_WAIT_MS = 10 * 60_000;
/** The client deadline sits this far above wait_timeout, so the server's own verdict arrives first. */
const DEADLINE_MARGIN_MS = 10_000;

const ipList = (what: string) =>
  v.optional(v.pipe(v.array(nodeName), v.maxLength(256), v.description(`${what} IPs; default: discovered.`)));

export const healthTool = defineTool({
  name: "talos_health",
  title: "Cluster: health check",
  description: "Runs Talos' cluster health check (etcd, apid, kubelet, boot, Kubernetes nodes and control " +
    "plane) on one control-plane node; returns each check and a verdict. Takes up to wait_timeout; the " +
    "Kubernetes checks pass only with an os:admin certificate.",
  annotations: READ_ONLY,
  input: {
    context,
    node: v.optional(v.pipe(nodeName, v.description("Control-plane node that runs the check; default: the first."))),
    control_plane_nodes: ipList("Control-plane"),
    worker_nodes: ipList("Worker"),
    wait_timeout: v.optional(
      v.pipe(
        v.string(),
        v.check((s) => {
          const ms = parseDuration(s);
          return ms !== undefined && ms >= 1000 && ms <= MAX_WAIT_MS;
        }, "wait_timeout is a duration from 1s to 10m, e.g. 30s or 2m"),
        v.description("How long checks may keep retrying (30s)."),
      ),
      "30s",
    ),
  },
  output: {
    node: v.string(),
    healthy: v.boolean(),
    discovered: v.optional(v.array(v.string())),
    checks: v.array(v.object({ check: v.string(), result: v.string() })),
    error: v.optional(v.string()),
    hint: v.optional(v.string()),
  },
  run: async (args, ctx) => {
    const session = await ctx.session(args.context);
    const node = args.node ?? args.control_plane_nodes?.[0] ?? targetNodes(session.ctx)[0];
    const waitMs = parseDuration(args.wait_timeout)!;
    const checks = new Map<string, string>();
    let discovered: string[] | undefined;
    let received = 0;
    const request = {
      wait_timeout: { seconds: String(Math.ceil(waitMs / 1000)), nanos: 0 }, // mandatory: zero fails at once
      cluster_info: {
        control_plane_nodes: args.control_plane_nodes ?? [],
        worker_nodes: args.worker_nodes ?? [],
        force_endpoint: "",
      },
    };
    const result = (healthy: boolean, error?: string) => ({
      node,
      healthy,
      ...(discovered ? { discovered } : {}),
      checks: [...checks].map(([check, result]) => ({ check, result })),
      ...(error ? { error } : {}),
      ...(error && /not authorized|PermissionDenied/i.test(error)
        ? {
          hint: "The Kubernetes checks run with your certificate's roles and need os:admin; use an admin context.",
        }
        : {}),
    });
    try {
      for await (
        const p of session.api.cluster.HealthCheck(request, {
          node,
          signal: ctx.signal,
          timeoutMs: waitMs + DEADLINE_MARGIN_MS,
        })
      ) {
        received++;
        const msg = p.message ?? "";
        await ctx.progress(received, undefined, msg);
        const d = /^discovered nodes: \[(.*)\]$/.exec(msg);
        if (d) {
          discovered = d[1].split(/\s+/).filter(Boolean).map((s) => s.replace(/^"|"$/g, ""));
          continue;
        }
        const m = /^waiting for (.+?): ([\s\S]*)$/.exec(msg);
        // Only changed lines are sent: the last word on each check is its state.
        if (m) checks.set(m[1], m[2].replace(/\s*\n\s*/g, " "));
        else checks.set(msg, "");
      }
    } catch (err) {
      if (!(err instanceof ToolError)) throw err;
      // No progress at all means the check never ran (unreachable, worker node, no permission): the call failed.
      if (!received || ["UNAVAILABLE", "PERMISSION_DENIED", "TLS"].includes(err.code)) {
        if (err.code === "FAILED_PRECONDITION") {
          throw new ToolError(`${err.message}. Pass node= a control-plane node.`, err.code);
        }
        throw err;
      }
      return result(false, err.message);
    }
    return result(true);
  },
});
