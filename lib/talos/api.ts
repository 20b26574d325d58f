/**
 * @module The typed Talos API: `session.api.machine.ServiceList({}, { node, signal })`.
 * Request and response types come from lib/talos/proto_types/ (generated from
 * proto/ by scripts/gen_types.ts), so a misspelt method, a wrong request field
 * or a response field that does not exist fails to compile. Method names are
 * the proto's, as in gRPC paths and the RBAC table (lib/talos/rbac.ts).
 */
import type * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import type { CallOptions, TalosClient } from "./client.ts";
import { packageDefinition } from "./protos.ts";
import type { ClusterServiceClient, ClusterServiceDefinition } from "./proto_types/cluster/ClusterService.ts";
import type { StateClient, StateDefinition } from "./proto_types/cosi/resource/State.ts";
import type { ImageServiceClient, ImageServiceDefinition } from "./proto_types/machine/ImageService.ts";
import type { LifecycleServiceClient, LifecycleServiceDefinition } from "./proto_types/machine/LifecycleService.ts";
import type { MachineServiceClient, MachineServiceDefinition } from "./proto_types/machine/MachineService.ts";
import type { StorageServiceClient, StorageServiceDefinition } from "./proto_types/storage/StorageService.ts";

/** Short name → full gRPC service name, for every service in proto/. */
const SERVICES = {
  machine: "machine.MachineService",
  image: "machine.ImageService",
  lifecycle: "machine.LifecycleService",
  cluster: "cluster.ClusterService",
  storage: "storage.StorageService",
  cosi: "cosi.resource.State",
} as const;

/** Per service: the generated client (tells unary from streaming) and definition (request, response types). */
interface Generated {
  machine: [MachineServiceClient, MachineServiceDefinition];
  image: [ImageServiceClient, ImageServiceDefinition];
  lifecycle: [LifecycleServiceClient, LifecycleServiceDefinition];
  cluster: [ClusterServiceClient, ClusterServiceDefinition];
  storage: [StorageServiceClient, StorageServiceDefinition];
  cosi: [StateClient, StateDefinition];
}

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;

/**
 * One method: server streams are async iterables (breaking out cancels the
 * call), unary calls promises. The request is the permissive input type, the
 * response the decoded output type (defaults filled, uint64 and enums as strings).
 */
type Method<C, Def> = Def extends MethodDefinition<infer Req, infer _Res, infer _Req, infer Res> ? C extends AnyFn
    // ReturnType of an overloaded method is its last overload's; all overloads agree on it.
    ? ReturnType<C> extends grpc.ClientWritableStream<unknown> ? never // client streams: not supported
    : ReturnType<C> extends grpc.ClientReadableStream<unknown> ? (req: Req, opts?: CallOptions) => AsyncGenerator<Res>
    : (req: Req, opts?: CallOptions) => Promise<Res>
  : never
  : never;

/** The methods a definition names, without grpc.ServiceDefinition's string index signature. */
type MethodNames<D> = keyof { [K in keyof D as string extends K ? never : number extends K ? never : K]: 0 };

type Service<C, D> = { readonly [K in MethodNames<D>]: Method<K extends keyof C ? C[K] : never, D[K]> };

export type TalosApi = { readonly [S in keyof Generated]: Service<Generated[S][0], Generated[S][1]> };

/** What the API calls through: the verified client, or the maintenance-mode one (lib/talos/insecure.ts). */
export type Transport = Pick<TalosClient, "unary" | "stream">;

/** The typed API over `client`; parses the embedded protos on first use. */
export async function talosApi(client: Transport): Promise<TalosApi> {
  const pkg = await packageDefinition();
  const api: Record<string, Record<string, unknown>> = {};
  for (const [short, full] of Object.entries(SERVICES)) {
    const methods: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(pkg[full] as Record<string, MethodDefinition<object, object>>)) {
      if (def.requestStream) continue; // no client-streaming RPC in proto/, none supported
      methods[name] = def.responseStream
        ? (req: object, opts?: CallOptions) => client.stream(def, req, opts)
        : (req: object, opts?: CallOptions) => client.unary(def, req, opts);
    }
    api[short] = methods;
  }
  return api as unknown as TalosApi;
}
