/**
 * @module The simulated apid: real gRPC over mTLS on loopback. Routes each
 * call by `node` metadata as apid does, enforces the caller's roles from its
 * certificate, applies faults, and records every call for tests to inspect.
 */
import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import type { ServerHttp2Stream } from "node:http2";
import { createServer, type Server as NetServer } from "node:net";
import { packageDefinition } from "../talos/protos.ts";
import { simMayCall } from "./rbac.ts";
import { containerHandlers } from "./handlers/containers.ts";
import { cosiHandlers } from "./handlers/cosi.ts";
import { etcdHandlers } from "./handlers/etcd.ts";
import { exportHandlers } from "./handlers/exports.ts";
import { imageHandlers } from "./handlers/images.ts";
import { statsHandlers } from "./handlers/stats.ts";
import { watchHandlers } from "./handlers/watch.ts";
import { fileHandlers } from "./handlers/files.ts";
import { applyConfigHandlers } from "./handlers/apply_config.ts";
import { lifecycleHandlers } from "./handlers/lifecycle.ts";
import { eventHandlers } from "./handlers/events.ts";
import { healthHandlers } from "./handlers/health.ts";
import { logHandlers } from "./handlers/logs.ts";
import { machineHandlers } from "./handlers/machine.ts";
import { metaHandlers } from "./handlers/meta.ts";
import { powerHandlers } from "./handlers/power.ts";
import { Code, type HandlerTable, type SimCall, SimError, sleep } from "./handlers/types.ts";
import type { SimCluster, SimNode } from "./model.ts";

/** One recorded call, as the endpoint received it. */
export interface RecordedCall {
  method: string;
  /** Values of the `node` metadata key (normally exactly one). */
  node: string[];
  /** Values of the deprecated `nodes` key; talos-mcp must never send it. */
  nodes: string[];
  /** Which endpoint (index) received it. */
  endpoint: number;
  roles: string[];
  request: unknown;
  at: number;
  /** Stream calls: messages the handler sent (tests check that bounded reads stop the stream). */
  sent?: number;
  /** Received by a maintenance-mode node's own listener, without a client certificate. */
  insecure?: boolean;
}

/** Every simulated RPC, by domain. Add a table here for each new domain. */
const TABLES: HandlerTable[] = [
  machineHandlers,
  cosiHandlers,
  etcdHandlers,
  fileHandlers,
  lifecycleHandlers,
  applyConfigHandlers,
  statsHandlers,
  imageHandlers,
  exportHandlers,
  watchHandlers,
  containerHandlers,
  logHandlers,
  eventHandlers,
  healthHandlers,
  powerHandlers,
  metaHandlers,
];

export function lookup<K extends keyof HandlerTable>(kind: K, path: string): HandlerTable[K][string] | undefined {
  for (let i = TABLES.length - 1; i >= 0; i--) {
    const h = TABLES[i][kind][path];
    if (h) return h as HandlerTable[K][string];
  }
  return undefined;
}

function rolesOf(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): string[] {
  const o = call.getAuthContext()?.sslPeerCertificate?.subject?.O as string | string[] | undefined;
  return o === undefined ? [] : Array.isArray(o) ? o : [o];
}

/** Faults of one endpoint (its apid and the connections to it), as opposed to a node's faults in model.ts. */
export interface EndpointFaults {
  /**
   * The next `times` calls (to `method` when given: "Reboot", "ImageService/Pull") are recorded, then the
   * endpoint drops the connection they came on (destroys the HTTP/2 session) without running or answering
   * them: what a client sees of a connection reset under its call.
   */
  drop?: { times: number; method?: string };
}

/** Whether gRPC `path` ("/machine.ImageService/Pull") is the method a test names: "Pull", "ImageService/Pull" or the path. */
export const methodMatches = (path: string, name: string): boolean =>
  path === name || path.endsWith(`/${name}`) || path.endsWith(`.${name}`);

export class SimEndpoint {
  server = newServer();
  port = 0;
  readonly faults: EndpointFaults = {};
  /** While stopped: the listener that takes the port and closes each connection at once. */
  private refuser?: NetServer;
  /** TCP connections made to the endpoint while it was stopped (each closed at once): how often a client dialled. */
  dials = 0;
  private creds?: grpc.ServerCredentials;
  private host = "127.0.0.1";

  constructor(
    readonly index: number,
    /** The node this endpoint runs on: it serves calls without `node` metadata. */
    readonly self: SimNode,
    private readonly cluster: SimCluster,
    private readonly calls: RecordedCall[],
  ) {}

  async listen(creds: grpc.ServerCredentials, port = 0, host = "127.0.0.1"): Promise<number> {
    this.creds = creds;
    this.host = host;
    const def = await packageDefinition();
    for (const entry of Object.values(def)) {
      if ("format" in entry) continue; // a message or enum, not a service
      const service = entry as Record<string, MethodDefinition<unknown, unknown>>;
      this.server.addService(service as grpc.ServiceDefinition, this.implement(service));
    }
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p)))
    );
    return this.port;
  }

  /**
   * The endpoint goes away: its connections are cut and its apid stops, but the port stays taken by a
   * listener that closes every connection at once and counts it in `dials`, so a test can tell whether
   * the client dialled the endpoint at all.
   */
  async stop(): Promise<void> {
    const old = this.server;
    // tryShutdown reports when the listener and sessions are closed; forceShutdown cuts the sessions now.
    await new Promise<void>((resolve) => {
      old.tryShutdown(() => resolve());
      old.forceShutdown();
    });
    const refuser = createServer((socket) => {
      this.dials++;
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      refuser.once("error", reject);
      refuser.listen(this.port, this.host, () => resolve());
    });
    this.refuser = refuser;
  }

  /** Serves again on the same port after stop(). */
  async start(): Promise<void> {
    const refuser = this.refuser;
    if (!refuser || !this.creds) throw new Error("start() follows stop()");
    await new Promise<void>((resolve) => refuser.close(() => resolve()));
    this.refuser = undefined;
    this.server = newServer();
    await this.listen(this.creds, this.port, this.host);
  }

  /** Closes the endpoint for good (the simulator's stop). */
  shutdown(): void {
    this.server.forceShutdown();
    this.refuser?.close();
  }

  private implement(service: Record<string, MethodDefinition<unknown, unknown>>) {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [name, m] of Object.entries(service)) {
      impl[name] = m.responseStream ? this.streamCall(m.path) : this.unaryCall(m.path);
    }
    return impl;
  }

  /**
   * Where apid would send the call: the single-valued `node` target, the endpoint's
   * own node, or for one-to-many `nodes` proxying the list of targets.
   */
  private route(path: string, md: grpc.Metadata, roles: string[], request: unknown): Route {
    // HTTP/2 servers in Node and Bun join repeated headers with ", "; Go's apid sees a list.
    const values = (key: string) => md.get(key).flatMap((v) => String(v).split(", "));
    const node = values("node");
    const nodes = values("nodes");
    this.calls.push({ method: path, node, nodes, endpoint: this.index, roles, request, at: Date.now() });
    const drop = this.faults.drop;
    if (drop && drop.times > 0 && (!drop.method || methodMatches(path, drop.method))) {
      drop.times--;
      return { drop: true };
    }
    // While the endpoint's own node reboots, its apid is gone too: nothing answers through it (a
    // one-control-plane cluster whose only endpoint reboots is unreachable for that while).
    if (this.self.poweredOff || this.cluster.bootTick(this.self)) {
      throw new SimError(Code.UNAVAILABLE, `connection error: desc = "transport: connect: connection refused"`);
    }
    if (node.length > 1) throw new SimError(Code.INVALID_ARGUMENT, "node metadata must be single-valued");
    if (!roles.length) throw new SimError(Code.PERMISSION_DENIED, "not authorized");
    if (nodes.length) {
      if (!ONE_TO_MANY.some((prefix) => path.startsWith(prefix))) {
        throw new SimError(Code.INVALID_ARGUMENT, `one-2-many proxying is not supported for method ${path}`);
      }
      return { many: nodes };
    }
    return { one: this.target(path, node[0], roles) };
  }

  /** The node apid would reach for `name` (absent: itself), or the status it would answer with. */
  private target(path: string, name: string | undefined, roles: string[]): SimNode {
    const target = name === undefined ? this.self : this.cluster.find(name);
    // A powered-off node, and one in maintenance mode (its apid takes no forwarded calls), cannot be dialed.
    if (!target || target.faults.down || target.poweredOff || target.maintenance || this.cluster.bootTick(target)) {
      throw new SimError(
        Code.UNAVAILABLE,
        `connection error: desc = "transport: Error while dialing: dial tcp ${name}:50000: connect: no route to host"`,
      );
    }
    if (!simMayCall(roles, path)) throw new SimError(Code.PERMISSION_DENIED, "not authorized");
    return target;
  }

  private async prepare(
    path: string,
    name: string | undefined,
    roles: string[],
    signal: AbortSignal,
  ): Promise<SimCall> {
    const node = this.target(path, name, roles);
    if (node.faults.delayMs) await sleep(node.faults.delayMs, signal);
    if (node.faults.failMethods?.some((m) => methodMatches(path, m))) {
      throw new SimError(Code.UNAVAILABLE, `${path} failed (simulated fault)`);
    }
    return { node, cluster: this.cluster, roles, signal };
  }

  private unaryCall(path: string): grpc.handleUnaryCall<unknown, unknown> {
    return async (call, callback) => {
      const abort = new AbortController();
      call.on("cancelled", () => abort.abort());
      const handler = lookup("unary", path);
      try {
        const roles = rolesOf(call);
        const route = this.route(path, call.metadata, roles, call.request);
        if ("drop" in route) return dropConnection(call);
        if (!handler) throw new SimError(Code.UNIMPLEMENTED, `unknown method ${path}`);
        if ("one" in route) {
          const ctx = await this.prepare(
            path,
            route.one.ip === this.self.ip ? undefined : route.one.ip,
            roles,
            abort.signal,
          );
          return callback(null, await handler(ctx, call.request));
        }
        // One-to-many: every node's reply, each message tagged with the target as asked for; failures in-band.
        const replies = await Promise.all(route.many.map(async (name) => {
          try {
            const ctx = await this.prepare(path, name, roles, abort.signal);
            const res = await handler(ctx, call.request) as { messages?: Record<string, unknown>[] };
            return (res.messages ?? []).map((m) => ({ ...m, metadata: { hostname: name } }));
          } catch (err) {
            const st = toStatus(err);
            return [{
              metadata: { hostname: name, error: st.details, status: { code: st.code, message: st.details } },
            }];
          }
        }));
        callback(null, { messages: replies.flat() });
      } catch (err) {
        callback(toStatus(err));
      }
    };
  }

  private streamCall(path: string): grpc.handleServerStreamingCall<unknown, unknown> {
    return async (call) => {
      const abort = new AbortController();
      call.on("cancelled", () => abort.abort());
      const handler = lookup("stream", path);
      const write = async (msg: unknown) => {
        if (abort.signal.aborted) throw new SimError(Code.CANCELLED, "cancelled");
        if (!call.write(msg)) {
          await new Promise<void>((resolve) => {
            call.once("drain", resolve);
            abort.signal.addEventListener("abort", () => resolve(), { once: true });
          });
        }
      };
      let record: RecordedCall | undefined;
      const run = async (name: string | undefined, roles: string[], tag?: string) => {
        const ctx = await this.prepare(path, name, roles, abort.signal);
        let sent = 0;
        const cut = ctx.node.faults.cutStreamAfter;
        await handler!(ctx, call.request, async (msg) => {
          if (cut !== undefined && sent >= cut) throw new SimError(Code.UNAVAILABLE, "stream cut (simulated fault)");
          sent++;
          if (record) record.sent = (record.sent ?? 0) + 1;
          await write(tag ? { ...(msg as object), metadata: { hostname: tag } } : msg);
        });
      };
      try {
        const roles = rolesOf(call);
        const route = this.route(path, call.metadata, roles, call.request);
        record = this.calls[this.calls.length - 1]; // route() just recorded this call
        if ("drop" in route) return dropConnection(call);
        if (!handler) throw new SimError(Code.UNIMPLEMENTED, `unknown method ${path}`);
        if ("one" in route) {
          await run(route.one.ip === this.self.ip ? undefined : route.one.ip, roles);
        } else {
          // One-to-many streams interleave; a failing node contributes one error message.
          await Promise.all(route.many.map((name) =>
            run(name, roles, name).catch(async (err) => {
              const st = toStatus(err);
              await write({
                metadata: { hostname: name, error: st.details, status: { code: st.code, message: st.details } },
              });
            })
          ));
        }
        call.end();
      } catch (err) {
        if (abort.signal.aborted) return;
        call.emit("error", toStatus(err));
      }
    };
  }
}

/** Services apid proxies one-to-many with `nodes` metadata (Talos 1.13+; never COSI). */
const ONE_TO_MANY = [
  "/machine.MachineService/",
  "/cluster.ClusterService/",
  "/inspect.InspectService/",
  "/storage.StorageService/",
  "/time.TimeService/",
];

type Route = { one: SimNode } | { many: string[] } | { drop: true };

function newServer(): grpc.Server {
  return new grpc.Server({ "grpc.max_send_message_length": 32 << 20 });
}

/**
 * Destroys the HTTP/2 session a call came on, as a reset connection would. grpc-js keeps the stream
 * private (`call.call.stream`); this is the simulator's one reach into it, and it fails loudly if that moves.
 */
function dropConnection(call: object): void {
  const stream = (call as { call?: { stream?: ServerHttp2Stream } }).call?.stream;
  if (!stream?.session) throw new Error("simulator: cannot reach the HTTP/2 session of a call (grpc-js changed)");
  stream.session.destroy();
}

function toStatus(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof SimError) return { code: err.code, details: err.details };
  return { code: Code.UNKNOWN, details: `simulator bug: ${(err as Error)?.message ?? String(err)}` };
}
