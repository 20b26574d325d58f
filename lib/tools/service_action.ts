/** @module talos_service_action: start, stop or restart a Talos service, within what Talos allows. */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { defineTool, MUTATING } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";

const METHOD = { start: "ServiceStart", stop: "ServiceStop", restart: "ServiceRestart" } as const;
const DONE = { start: "started", stop: "stopped", restart: "restarted" } as const;

/** Talos' own rule (services opt in to control): kubelet may be started or restarted, extension services anything. */
function talosAllows(service: string, action: keyof typeof METHOD): boolean {
  return service.startsWith("ext-") || (service === "kubelet" && action !== "stop");
}

export const serviceActionTool = defineTool({
  name: "talos_service_action",
  title: "Service: start / stop / restart",
  description: "Start, stop or restart a Talos service on the given nodes. Talos allows only kubelet (start, " +
    "restart) and extension services (ext-*); etcd, apid, containerd and the rest are refused. Needs " +
    "confirm: true and os:operator.",
  risk: "operate",
  annotations: MUTATING,
  confirm: true,
  rpcs: [
    "/machine.MachineService/ServiceStart",
    "/machine.MachineService/ServiceStop",
    "/machine.MachineService/ServiceRestart",
  ],
  input: {
    context,
    nodes,
    service_name: v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(128),
      v.description("Service id: kubelet or ext-<name>."),
    ),
    action: v.pipe(v.picklist(["start", "stop", "restart"]), v.description("What to do.")),
  },
  output: perNodeOutput({ response: v.string() }),
  check: ({ service_name, action }) => {
    if (talosAllows(service_name, action)) return;
    const instead = service_name === "etcd"
      ? " etcd cannot be controlled through the API; to restart it, reboot that control-plane node with " +
        "talos_reboot, one control plane at a time."
      : service_name === "kubelet"
      ? " kubelet can be started or restarted, not stopped."
      : "";
    throw new ToolError(
      `Talos does not let "${service_name}" be ${DONE[action]} through its API: only kubelet (start, restart) ` +
        `and extension services (ext-<name>) can be.${instead} Nothing was sent.`,
      "INVALID_ARGUMENT",
    );
  },
  action: ({ service_name, action }) => `${action} the service "${service_name}".`,
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      const res = await s.api.machine[METHOD[args.action]](
        { id: args.service_name },
        { node, signal: ctx.signal },
      );
      return { response: res.messages?.[0]?.resp ?? "" };
    }),
});
