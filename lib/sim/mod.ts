/**
 * @module The simulated Talos cluster, in-process: start it, point a
 * talosconfig at it, flip faults, inspect recorded calls, stop it.
 */
import * as grpc from "@grpc/grpc-js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClusterSpec, SimCluster } from "./model.ts";
import { CLIENT_ROLES, createPki, type SimPki, writeTalosconfig } from "./pki.ts";
import { MaintenanceEndpoint } from "./maintenance.ts";
import { methodMatches, type RecordedCall, SimEndpoint } from "./server.ts";

export interface SimOptions extends ClusterSpec {
  /** How many control-plane nodes also serve as endpoints (default 1). */
  endpoints?: number;
  /** Directory for the talosconfig; default: a new temp dir, removed on stop. */
  dir?: string;
  /** Port of the first endpoint (0 = any free port). */
  port?: number;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** Days until the talosconfig's client certificates expire (default 365). */
  clientCertDays?: number;
}

export interface Sim {
  cluster: SimCluster;
  pki: SimPki;
  endpoints: SimEndpoint[];
  talosconfig: string;
  dir: string;
  /** Every call the endpoints received, in order. */
  calls: RecordedCall[];
  /** Calls to one method: its short name ("Version"), service and method ("ImageService/Pull") or full path. */
  callsTo(method: string): RecordedCall[];
  /**
   * The maintenance-mode listener of a node (started on first use, then kept): where a node without a
   * config serves its maintenance API. Answers UNAVAILABLE while the node is not in maintenance mode.
   */
  maintenance(ip: string): Promise<MaintenanceEndpoint>;
  stop(): Promise<void>;
}

export async function startSim(opts: SimOptions = {}): Promise<Sim> {
  const cluster = new SimCluster(opts);
  const names = ["127.0.0.1", "::1", "localhost", ...cluster.nodes.flatMap((n) => [n.ip, n.hostname])];
  const pki = createPki(
    names,
    opts.clientCertDays === undefined ? undefined : new Date(Date.now() + opts.clientCertDays * 86_400_000),
  );
  cluster.osCa = pki.ca;
  const calls: RecordedCall[] = [];
  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(pki.ca.certPem),
    [{
      private_key: Buffer.from(pki.server.keyPem.replace(/ED25519 PRIVATE KEY/g, "PRIVATE KEY")),
      cert_chain: Buffer.from(pki.server.certPem),
    }],
    true, // require a client certificate, as apid does
  );
  const cps = cluster.controlPlanes();
  const count = Math.max(1, Math.min(opts.endpoints ?? 1, cps.length));
  const endpoints: SimEndpoint[] = [];
  for (let i = 0; i < count; i++) {
    const ep = new SimEndpoint(i, cps[i], cluster, calls);
    await ep.listen(creds, opts.port && i === 0 ? opts.port : 0, opts.host);
    endpoints.push(ep);
  }
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "talos-mcp-sim-"));
  const endpointAddrs = endpoints.map((e) => `${opts.host ?? "127.0.0.1"}:${e.port}`);
  const talosconfig = writeTalosconfig(
    dir,
    cluster.name,
    Object.keys(CLIENT_ROLES).map((suffix) => ({
      name: `${cluster.name}${suffix}`,
      endpoints: endpointAddrs,
      nodes: cluster.configured().map((n) => n.ip),
      ca: pki.ca,
      client: pki.clients[suffix],
    })),
  );
  const maintenance = new Map<string, Promise<MaintenanceEndpoint>>();
  const maintenanceOf = (ip: string) => {
    let m = maintenance.get(ip);
    if (!m) {
      const node = cluster.find(ip);
      if (!node) throw new Error(`no simulated node ${ip}`);
      const ep = new MaintenanceEndpoint(node, cluster, calls);
      maintenance.set(ip, m = ep.listen(opts.host).then(() => ep));
    }
    return m;
  };
  for (const n of cluster.nodes) if (n.maintenance) await maintenanceOf(n.ip);
  return {
    cluster,
    maintenance: maintenanceOf,
    pki,
    endpoints,
    talosconfig,
    dir,
    calls,
    // "Version", "ImageService/Pull" or the full path "/machine.ImageService/Pull".
    callsTo: (method) => calls.filter((c) => methodMatches(c.method, method)),
    stop: () => {
      for (const e of endpoints) e.shutdown();
      for (const m of maintenance.values()) void m.then((ep) => ep.server.forceShutdown());
      if (ownDir) rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}
