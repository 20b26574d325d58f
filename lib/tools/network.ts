/** @module Network diagnostics: talos_network (COSI addresses, links, routes) and talos_netstat. */
import * as v from "valibot";
import { listResources } from "../talos/cosi.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { context, more, nodes, perNodeOutput } from "./params.ts";
import { nodesWithMore, perNode, withLimitNote } from "./per_node.ts";

const PER_LIST = 100;
type Spec = Record<string, unknown>;
const str = (x: unknown) => (x === undefined || x === null ? "" : String(x));

export const networkTool = defineTool({
  name: "talos_network",
  title: "Network: addresses, links, routes",
  description: "Addresses, links (state, MTU, MAC) and routes per node from Talos' network resources, " +
    "compact. Use for connectivity problems; talos_get gives full specs of one type.",
  annotations: READ_ONLY,
  input: {
    context,
    nodes,
    include: v.optional(
      v.pipe(
        v.array(v.picklist(["addresses", "links", "routes"])),
        v.minLength(1),
        v.description("Parts to return (default all three)."),
      ),
    ),
  },
  output: perNodeOutput({
    addresses: v.array(v.string()),
    links: v.array(v.object({
      name: v.string(),
      type: v.string(),
      state: v.string(),
      mtu: v.optional(v.number()),
      mac: v.optional(v.string()),
    })),
    routes: v.array(v.object({
      dst: v.string(),
      gateway: v.optional(v.string()),
      link: v.string(),
      table: v.optional(v.string()),
      metric: v.optional(v.number()),
    })),
    more,
  }),
  run: async (args, ctx) => {
    const want = new Set(args.include ?? ["addresses", "links", "routes"]);
    const stopped = new Set<string>();
    const result = await perNode(ctx, args, async (s, node) => {
      const list = (type: string) => listResources(s, node, "network", type, PER_LIST, ctx.signal);
      const [addresses, links, routes] = await Promise.all([
        want.has("addresses") ? list("AddressStatuses.net.talos.dev") : undefined,
        want.has("links") ? list("LinkStatuses.net.talos.dev") : undefined,
        want.has("routes") ? list("RouteStatuses.net.talos.dev") : undefined,
      ]);
      const full = [addresses?.more && "addresses", links?.more && "links", routes?.more && "routes"]
        .filter((x): x is string => !!x);
      for (const f of full) stopped.add(f);
      return {
        ...(addresses
          ? {
            addresses: addresses.items.map((r) => `${str((r.spec as Spec).linkName)} ${str((r.spec as Spec).address)}`),
          }
          : {}),
        ...(links
          ? {
            links: links.items.map((r) => {
              const sp = r.spec as Spec;
              return {
                name: r.id,
                type: str(sp.type),
                state: str(sp.operationalState),
                ...(sp.mtu ? { mtu: Number(sp.mtu) } : {}),
                ...(sp.hardwareAddr ? { mac: str(sp.hardwareAddr) } : {}),
              };
            }),
          }
          : {}),
        ...(routes
          ? {
            routes: routes.items.map((r) => {
              const sp = r.spec as Spec;
              return {
                dst: str(sp.dst) || "default",
                ...(sp.gateway ? { gateway: str(sp.gateway) } : {}),
                link: str(sp.outLinkName),
                ...(sp.table && sp.table !== "main" ? { table: str(sp.table) } : {}),
                ...(sp.priority ? { metric: Number(sp.priority) } : {}),
              };
            }),
          }
          : {}),
        ...(full.length ? { more: true as const } : {}),
      };
    });
    const capped = nodesWithMore(result);
    return withLimitNote(
      result,
      capped
        ? {
          tool_limit: `${[...stopped].join(", ")} stopped at ${PER_LIST} entries on ${capped} node(s) (more: true)`,
          ask: "use talos_get with the type (AddressStatuses, LinkStatuses, RouteStatuses) and a higher limit",
        }
        : undefined,
    );
  },
});

const PROTOS = ["tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6"] as const;

export const netstatTool = defineTool({
  name: "talos_netstat",
  title: "Network: sockets",
  description: "Sockets per node (listening, connected or all) with local/remote address, state and " +
    "process. Use to check what listens on a port or who talks to etcd/apiserver.",
  annotations: READ_ONLY,
  input: {
    context,
    nodes,
    filter: v.optional(
      v.pipe(v.picklist(["listening", "connected", "all"]), v.description("Which sockets (default listening).")),
      "listening",
    ),
    protocols: v.optional(
      v.pipe(v.array(v.picklist(PROTOS)), v.minLength(1), v.description("Default tcp, tcp6, udp, udp6.")),
    ),
    pods: v.optional(v.pipe(v.boolean(), v.description("Include pod network namespaces (default host only).")), false),
    limit: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(2000), v.description("Max sockets per node (200).")),
      200,
    ),
  },
  output: perNodeOutput({
    sockets: v.array(v.object({
      proto: v.string(),
      local: v.string(),
      remote: v.optional(v.string()),
      state: v.string(),
      process: v.optional(v.string()),
      netns: v.optional(v.string()),
    })),
    more,
  }),
  run: async (args, ctx) => {
    const protos = args.protocols ?? ["tcp", "tcp6", "udp", "udp6"];
    // With every l4proto flag false Talos returns nothing, and without hostnetwork no host sockets.
    const request = {
      filter: args.filter.toUpperCase() as Uppercase<typeof args.filter>,
      feature: { pid: true },
      l4proto: Object.fromEntries(PROTOS.map((p) => [p, protos.includes(p)])),
      netns: { hostnetwork: true, allnetns: args.pods, netns: [] },
    };
    let leftOut = 0;
    const addr = (ip: string, port: number) => (ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`);
    const result = await perNode(ctx, args, async (s, node) => {
      const res = await s.api.machine.Netstat(
        request,
        { node, signal: ctx.signal },
      );
      const all = res.messages?.[0]?.connectrecord ?? [];
      const sockets = all.slice(0, args.limit).map((r) => ({
        proto: r.l4proto,
        local: addr(r.localip, r.localport),
        ...(r.remoteport ? { remote: addr(r.remoteip, r.remoteport) } : {}),
        state: r.state,
        ...(r.process?.name ? { process: `${r.process.name}/${r.process.pid}` } : {}),
        ...(r.netns ? { netns: r.netns } : {}),
      }));
      leftOut = Math.max(leftOut, all.length - args.limit);
      return { sockets, ...(all.length > args.limit ? { more: true as const } : {}) };
    });
    const capped = nodesWithMore(result);
    return withLimitNote(
      result,
      capped
        ? {
          tool_limit: `sockets beyond limit=${args.limit} left out on ${capped} node(s) (more: true), ` +
            `up to ${leftOut} per node`,
          ask: "raise limit (up to 2000), or narrow filter or protocols",
        }
        : undefined,
    );
  },
});
