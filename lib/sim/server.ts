/**
 * @module The simulated apid: real gRPC over mTLS on loopback. Routes each
 * call by `node` metadata as apid does, enforces the caller's roles from its
 * certificate, applies faults, and records every call for tests to inspect.
 */
import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import { packageDefinition } from "../talos/protos.ts";
import { mayCall } from "../talos/rbac.ts";
import { cosiHandlers } from "./handlers/cosi.ts";
import { machineHandlers } from "./handlers/machine.ts";
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
}

const TABLES: HandlerTable[] = [machineHandlers, cosiHandlers];

/** Handler tables added by later modules (logs, files, etcd, ...). */
export function registerHandlers(table: HandlerTable): void {
  TABLES.push(table);
}

function lookup<K extends keyof HandlerTable>(kind: K, path: string): HandlerTable[K][string] | undefined {
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

export class SimEndpoint {
  readonly server = new grpc.Server({ "grpc.max_send_message_length": 32 << 20 });
  port = 0;

  constructor(
    readonly index: number,
    /** The node this endpoint runs on: it serves calls without `node` metadata. */
    readonly self: SimNode,
    private readonly cluster: SimCluster,
    private readonly calls: RecordedCall[],
  ) {}

  async listen(creds: grpc.ServerCredentials, port = 0): Promise<number> {
    const def = await packageDefinition();
    for (const entry of Object.values(def)) {
      if ("format" in entry) continue; // a message or enum, not a service
      const service = entry as Record<string, MethodDefinition<unknown, unknown>>;
      this.server.addService(service as grpc.ServiceDefinition, this.implement(service));
    }
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p)))
    );
    return this.port;
  }

  private implement(service: Record<string, MethodDefinition<unknown, unknown>>) {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [name, m] of Object.entries(service)) {
      impl[name] = m.responseStream ? this.streamCall(m.path) : this.unaryCall(m.path);
    }
    return impl;
  }

  /** Where apid would send the call, or the status it would answer with (§3.1). */
  private route(path: string, md: grpc.Metadata, roles: string[], request: unknown): SimNode {
    const node = md.get("node").map(String);
    const nodes = md.get("nodes").map(String);
    this.calls.push({ method: path, node, nodes, endpoint: this.index, roles, request, at: Date.now() });
    if (node.length > 1) throw new SimError(Code.INVALID_ARGUMENT, "node metadata must be single-valued");
    if (nodes.length) {
      throw new SimError(Code.INVALID_ARGUMENT, `one-2-many proxying is not supported for method ${path}`);
    }
    if (!roles.length) throw new SimError(Code.PERMISSION_DENIED, "not authorized");
    const target = node.length ? this.cluster.find(node[0]) : this.self;
    if (!target || target.faults.down) {
      throw new SimError(
        Code.UNAVAILABLE,
        `connection error: desc = "transport: Error while dialing: dial tcp ${
          node[0]
        }:50000: connect: no route to host"`,
      );
    }
    if (!mayCall(roles, path)) throw new SimError(Code.PERMISSION_DENIED, "not authorized");
    return target;
  }

  private async prepare(
    path: string,
    call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
    signal: AbortSignal,
  ): Promise<SimCall> {
    const roles = rolesOf(call);
    const node = this.route(path, call.metadata, roles, call.request);
    if (node.faults.delayMs) await sleep(node.faults.delayMs, signal);
    return { node, cluster: this.cluster, roles, signal };
  }

  private unaryCall(path: string): grpc.handleUnaryCall<unknown, unknown> {
    return async (call, callback) => {
      const abort = new AbortController();
      call.on("cancelled", () => abort.abort());
      try {
        const handler = lookup("unary", path);
        const ctx = await this.prepare(path, call, abort.signal);
        if (!handler) throw new SimError(Code.UNIMPLEMENTED, `unknown method ${path}`);
        callback(null, await handler(ctx, call.request));
      } catch (err) {
        callback(toStatus(err));
      }
    };
  }

  private streamCall(path: string): grpc.handleServerStreamingCall<unknown, unknown> {
    return async (call) => {
      const abort = new AbortController();
      call.on("cancelled", () => abort.abort());
      try {
        const handler = lookup("stream", path);
        const ctx = await this.prepare(path, call, abort.signal);
        if (!handler) throw new SimError(Code.UNIMPLEMENTED, `unknown method ${path}`);
        let sent = 0;
        const cut = ctx.node.faults.cutStreamAfter;
        await handler(ctx, call.request, async (msg) => {
          if (abort.signal.aborted) throw new SimError(Code.CANCELLED, "cancelled");
          if (cut !== undefined && sent >= cut) throw new SimError(Code.UNAVAILABLE, "stream cut (simulated fault)");
          sent++;
          if (!call.write(msg)) {
            await new Promise<void>((resolve) => {
              call.once("drain", resolve);
              abort.signal.addEventListener("abort", () => resolve(), { once: true });
            });
          }
        });
        call.end();
      } catch (err) {
        if (abort.signal.aborted) return;
        call.emit("error", toStatus(err));
      }
    };
  }
}

function toStatus(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof SimError) return { code: err.code, details: err.details };
  return { code: Code.UNKNOWN, details: `simulator bug: ${(err as Error)?.message ?? String(err)}` };
}
