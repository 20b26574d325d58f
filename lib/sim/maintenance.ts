/**
 * @module A simulated node in maintenance mode: its own TLS listener with a self-signed certificate,
 * no client certificate asked for, and only the maintenance subset of the API (what Talos serves
 * before a node has a config). Calls are recorded beside the endpoints' calls, with `insecure: true`.
 */
import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import { createHash, X509Certificate } from "node:crypto";
import { packageDefinition } from "../talos/protos.ts";
import { Code, SimError } from "./handlers/types.ts";
import type { SimCluster, SimNode } from "./model.ts";
import { lookup, type RecordedCall } from "./server.ts";
import { issue } from "./x509.ts";

/** What a node without a config answers: its version, its disks, non-sensitive COSI reads, a config, META. */
const MAINTENANCE_API = new Set([
  "/machine.MachineService/Version",
  "/machine.MachineService/ApplyConfiguration",
  "/machine.MachineService/MetaWrite",
  "/machine.MachineService/MetaDelete",
  "/storage.StorageService/Disks",
  "/cosi.resource.State/Get",
  "/cosi.resource.State/List",
]);

/** Roles a maintenance-mode call runs with: none are proven, so only what a reader may see. */
const ROLES = ["os:reader"];

export class MaintenanceEndpoint {
  readonly server = new grpc.Server();
  port = 0;
  /** SHA-256 of the listener's certificate (DER), as a client pins it: lowercase hex. */
  readonly fingerprint: string;
  private readonly creds: grpc.ServerCredentials;

  constructor(readonly node: SimNode, private readonly cluster: SimCluster, private readonly calls: RecordedCall[]) {
    const cert = issue({ commonName: node.hostname, altNames: [node.ip, "127.0.0.1"], usage: "server" });
    this.fingerprint = createHash("sha256").update(new X509Certificate(cert.certPem).raw).digest("hex");
    this.creds = grpc.ServerCredentials.createSsl(
      null,
      [{
        private_key: Buffer.from(cert.keyPem.replace(/ED25519 PRIVATE KEY/g, "PRIVATE KEY")),
        cert_chain: Buffer.from(cert.certPem),
      }],
      false, // no client certificate: a node without a config has no CA to check one against
    );
  }

  async listen(host = "127.0.0.1"): Promise<number> {
    const def = await packageDefinition();
    for (const entry of Object.values(def)) {
      if ("format" in entry) continue;
      const service = entry as Record<string, MethodDefinition<unknown, unknown>>;
      const impl: grpc.UntypedServiceImplementation = {};
      for (const [name, m] of Object.entries(service)) impl[name] = this.handle(m);
      this.server.addService(service as grpc.ServiceDefinition, impl);
    }
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:0`, this.creds, (err, p) => (err ? reject(err) : resolve(p)))
    );
    return this.port;
  }

  private handle(m: MethodDefinition<unknown, unknown>) {
    const path = m.path;
    const ctx = (signal: AbortSignal) => {
      // Once configured (or while rebooting into its config) the maintenance API is gone.
      if (!this.node.maintenance || this.node.poweredOff || this.cluster.bootTick(this.node)) {
        throw new SimError(Code.UNAVAILABLE, "connection refused: the node is not in maintenance mode");
      }
      if (!MAINTENANCE_API.has(path)) {
        throw new SimError(Code.UNIMPLEMENTED, `${path} is not available in maintenance mode`);
      }
      return { node: this.node, cluster: this.cluster, roles: ROLES, signal };
    };
    const record = (request: unknown) =>
      this.calls.push({
        method: path,
        node: [],
        nodes: [],
        endpoint: -1,
        roles: [],
        request,
        at: Date.now(),
        insecure: true,
      });
    if (m.responseStream) {
      return (async (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const abort = new AbortController();
        call.on("cancelled", () => abort.abort());
        record(call.request);
        try {
          const c = ctx(abort.signal);
          await lookup("stream", path)!(c, call.request, (msg) => Promise.resolve(void call.write(msg)));
          call.end();
        } catch (err) {
          call.emit("error", status(err));
        }
      }) as grpc.handleServerStreamingCall<unknown, unknown>;
    }
    return (async (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const abort = new AbortController();
      call.on("cancelled", () => abort.abort());
      record(call.request);
      try {
        callback(null, await lookup("unary", path)!(ctx(abort.signal), call.request) as never);
      } catch (err) {
        callback(status(err));
      }
    }) as grpc.handleUnaryCall<unknown, unknown>;
  }
}

function status(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof SimError) return { code: err.code, details: err.details };
  return { code: Code.UNKNOWN, details: `simulator bug: ${(err as Error)?.message ?? String(err)}` };
}
