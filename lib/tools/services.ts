/** @module talos_services: Talos system services per node. */
import * as v from "valibot";
import { defineTool, READ_ONLY } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";

const service = v.object({
  id: v.string(),
  state: v.string(),
  health: v.picklist(["healthy", "unhealthy", "unknown"]),
  message: v.optional(v.string()),
});

export const servicesTool = defineTool({
  name: "talos_services",
  title: "Service: list",
  description: "Talos system services on each node (etcd, kubelet, apid, containerd, ...) with state and " +
    "health. Use first when a node misbehaves; unhealthy services carry their last health message.",
  annotations: READ_ONLY,
  input: { context, nodes },
  output: perNodeOutput({ services: v.array(service) }),
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      const res = await s.api.machine.ServiceList({}, {
        node,
        signal: ctx.signal,
      });
      const services = (res.messages?.[0]?.services ?? []).map((svc) => {
        const h = svc.health;
        const health = !h || h.unknown ? "unknown" : h.healthy ? "healthy" : "unhealthy";
        return {
          id: svc.id,
          state: svc.state,
          health,
          ...(health === "unhealthy" && h?.last_message ? { message: h.last_message } : {}),
        };
      });
      return { services };
    }),
});
