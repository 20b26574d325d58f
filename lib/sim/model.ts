/**
 * @module The simulated cluster's state: nodes with realistic Talos data
 * (versions, services; COSI resources in resources.ts, machine configs in
 * machine_config.ts) and per-node faults that tests and demos switch on and off.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { type ClusterSecrets, clusterSecrets, machineConfig } from "./machine_config.ts";
import { nodeResources } from "./resources.ts";

export type Role = "controlplane" | "worker";

export interface Faults {
  /** Unreachable: apid cannot dial it. */
  down?: boolean;
  /** Answer every call this much later (ms). */
  delayMs?: number;
  /** Streams from this node fail after this many messages. */
  cutStreamAfter?: number;
  /** RPCs (by method name, e.g. "Events") this node answers with UNAVAILABLE while the rest work. */
  failMethods?: string[];
}

export interface SimService {
  id: string;
  state: string;
  healthy: boolean | null;
  message: string;
}

export interface SimResource {
  namespace: string;
  type: string;
  id: string;
  version: number;
  owner: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  /** Spec as data; rendered to yaml_spec on the wire. */
  spec: unknown;
  /** Exact yaml_spec text when the spec is not plain data (MachineConfig). */
  yamlSpec?: string;
  protoSpec?: Uint8Array;
}

export interface SimNode {
  ip: string;
  hostname: string;
  role: Role;
  /** Talos version tag, e.g. v1.13.9. */
  version: string;
  arch: string;
  bootId: string;
  etcdMemberId: string;
  services: SimService[];
  machineConfig: string;
  faults: Faults;
  /** Files added by tests or scenarios, on top of the defaults in fs.ts. */
  extraFiles?: Map<string, import("./fs.ts").SimFile>;
  /** While > 0 the node is rebooting: each call routed to it is refused and counts down. */
  rebootingFor?: number;
  /** Installed into the inactive boot slot; booted at the next reboot. */
  pendingVersion?: string;
  /** The version booted before the last upgrade (what Rollback returns to). */
  previousVersion?: string;
  /** Config staged with ApplyConfiguration STAGED, applied at the next reboot. */
  stagedConfig?: string;
  /** Load, memory and disk use the stats RPCs report; tests raise them to create pressure. */
  usage?: Partial<SimUsage>;
  /** Diagnostics.runtime.talos.dev resources: Talos' own warnings. */
  diagnostics?: Array<{ id: string; message: string; details: string[] }>;
  /** Images in the CRI containerd namespace, beyond the defaults (ImagePull adds here). */
  images?: string[];
  /** Logs added by tests or benchmarks (service id or CRI container id), on top of lib/sim/logs.ts. */
  extraLogs?: Map<string, import("./logs.ts").SimLog>;
  /** Recent events added by tests or scenarios (Events replays them after the boot history). */
  recentEvents?: Array<{ secondsAgo: number; type: string; data: Record<string, unknown> }>;
  /** Faults planted by lib/sim/scenarios.ts (etcd, kernel log, time, network, volumes, readiness). */
  planted?: import("./scenarios.ts").PlantedFaults;
  /**
   * Booted without a machine config (fresh from the ISO, or reset): apid cannot reach it; it serves only
   * the maintenance API, without client certificates, on its own listener (lib/sim/maintenance.ts).
   */
  maintenance?: boolean;
  /** Powered off (Shutdown, or Reset without reboot): unreachable until a test powers it on. */
  poweredOff?: boolean;
  /** Left etcd (a graceful Reset of a control plane): no longer a member. */
  leftEtcd?: boolean;
  /** META partition: key (0-255) → value. */
  meta: Map<number, string>;
  /** Static pods restarting after their image changed: reads of their status left before they run again. */
  podRestarts?: Map<string, { left: number; image: string }>;
}

/** Figures behind Memory, LoadAvg, SystemStat and Mounts. */
export interface SimUsage {
  load1: number;
  /** Fraction of memory in use, 0..1. */
  memUsed: number;
  /** Fraction of the EPHEMERAL (/var) filesystem in use, 0..1. */
  varUsed: number;
  uptimeSeconds: number;
}

export interface ClusterSpec {
  controlPlanes?: number;
  workers?: number;
  /** Talos version for every node, or per node index. */
  version?: string | string[];
  clusterName?: string;
  /** Fresh nodes booted from the ISO without a config, after the others (default 0). */
  maintenanceNodes?: number;
  /** Whether etcd was bootstrapped (default true); false: a new cluster waiting for talos_bootstrap. */
  etcdBootstrapped?: boolean;
}

const SHA: Record<string, string> = {};
const shaOf = (tag: string) => (SHA[tag] ??= randomBytes(4).toString("hex").slice(0, 7));
/** Go version the Talos release line was built with (published release notes). */
const GO_VERSION: Record<string, string> = {
  "1.9": "go1.23.4",
  "1.10": "go1.24.2",
  "1.11": "go1.24.6",
  "1.12": "go1.25.4",
  "1.13": "go1.25.9",
  "1.14": "go1.26.7",
};

export function goVersionFor(tag: string): string {
  const minor = /^v?(\d+\.\d+)/.exec(tag)?.[1] ?? "";
  return GO_VERSION[minor] ?? "go1.25.9";
}

export function versionSha(tag: string): string {
  return shaOf(tag);
}

const CP_SERVICES = [
  "apid",
  "auditd",
  "containerd",
  "cri",
  "dashboard",
  "etcd",
  "kubelet",
  "machined",
  "syslogd",
  "trustd",
  "udevd",
];
const WORKER_SERVICES = CP_SERVICES.filter((s) => s !== "etcd" && s !== "trustd");

function services(role: Role): SimService[] {
  return (role === "controlplane" ? CP_SERVICES : WORKER_SERVICES).map((id) => ({
    id,
    state: "Running",
    // Services without a health check report "unknown", as on a real node.
    healthy: ["dashboard", "auditd", "syslogd"].includes(id) ? null : true,
    message: "",
  }));
}

const PREPARING = { state: "Preparing", healthy: false, message: "Waiting for etcd to be bootstrapped" };

function uint64(): string {
  return BigInt("0x" + randomBytes(8).toString("hex")).toString(); // usually > 2^53: must survive as a string
}

/** The whole simulated cluster. Mutable: tests and tools change it. */
export class SimCluster {
  readonly nodes: SimNode[];
  readonly name: string;
  private readonly secrets: ClusterSecrets;
  /** How many calls a rebooting node refuses before it is back (deterministic, no clock). */
  rebootCalls = 2;
  /** exit_code LifecycleService.Upgrade ends with; set non-zero to simulate a failed install. */
  upgradeExitCode = 0;
  /** How many reads of its status a static pod stays not ready after its image changed (lib/sim/kubernetes.ts). */
  podRestartReads = 2;
  /** Whether etcd was bootstrapped once (Bootstrap refuses a second time, as Talos does). */
  etcdBootstrapped: boolean;
  /** Member id of the etcd leader after a leadership move (EtcdForfeitLeadership); absent: the first healthy one. */
  etcdLeaderId?: string;
  /** The OS CA (set by startSim): GenerateClientConfiguration signs client certificates with it. */
  osCa?: import("./x509.ts").Issued;
  private readonly listeners = new Set<(node: SimNode) => void>();

  constructor(spec: ClusterSpec = {}) {
    const cps = spec.controlPlanes ?? 3;
    const workers = spec.workers ?? 1;
    this.name = spec.clusterName ?? "sim";
    this.secrets = clusterSecrets(this.name);
    this.nodes = [];
    for (let i = 0; i < cps + workers; i++) {
      const role: Role = i < cps ? "controlplane" : "worker";
      const hostname = role === "controlplane" ? `sim-cp-${i + 1}` : `sim-worker-${i - cps + 1}`;
      const ip = `10.5.0.${i + 2}`;
      const version = Array.isArray(spec.version) ? spec.version[i] ?? spec.version[0] : spec.version ?? "v1.13.9";
      this.nodes.push({
        ip,
        hostname,
        role,
        version,
        arch: "amd64",
        bootId: randomUUID(),
        etcdMemberId: uint64(),
        services: services(role),
        machineConfig: machineConfig({ hostname, role, ip }, this.secrets),
        faults: {},
        meta: new Map(),
      });
    }
    this.etcdBootstrapped = spec.etcdBootstrapped ?? true;
    if (!this.etcdBootstrapped) {
      // etcd waits for Bootstrap on every control plane, as on a new Talos cluster.
      for (const n of this.controlPlanes()) Object.assign(n.services.find((x) => x.id === "etcd")!, PREPARING);
    }
    for (let i = 0; i < (spec.maintenanceNodes ?? 0); i++) {
      const ip = `10.5.0.${this.nodes.length + 2}`;
      this.nodes.push({
        ip,
        // Talos names an unconfigured node after its MAC address until a config says otherwise.
        hostname: `talos-${randomBytes(2).toString("hex")}-${i + 1}`,
        role: "worker",
        version: Array.isArray(spec.version) ? spec.version[0] : spec.version ?? "v1.13.9",
        arch: "amd64",
        bootId: randomUUID(),
        etcdMemberId: uint64(),
        services: [],
        machineConfig: "",
        faults: {},
        meta: new Map(),
        maintenance: true,
      });
    }
  }

  /**
   * A maintenance-mode node accepted `config` (already validated): it installs, reboots and joins the
   * cluster with the role and hostname the config gives it.
   */
  join(node: SimNode, config: string, role: Role, hostname?: string): void {
    node.maintenance = false;
    node.machineConfig = config;
    node.role = role;
    if (hostname) node.hostname = hostname;
    node.services = services(role);
    node.leftEtcd = false;
    this.reboot(node);
  }

  /** Reset wiped the node's config: it boots into maintenance mode (or stays off until powered on). */
  wipeConfig(node: SimNode): void {
    node.maintenance = true;
    node.machineConfig = "";
    node.stagedConfig = undefined;
    node.services = [];
  }

  /** By IP or hostname, as apid resolves a `node` target. */
  find(target: string): SimNode | undefined {
    return this.nodes.find((n) => n.ip === target || n.hostname === target);
  }

  /** Starts a reboot of `node`: it goes away for `rebootCalls` calls, then boots (new boot id). */
  reboot(node: SimNode): void {
    node.rebootingFor = this.rebootCalls;
    if (this.rebootCalls === 0) this.boot(node);
  }

  /** Whether `node` is out of service now (unreachable, powered off, in maintenance mode, rebooting); no tick. */
  isDown(node: SimNode): boolean {
    return !!(node.faults.down || node.poweredOff || node.maintenance || node.rebootingFor);
  }

  /** A call reached `node`; true while it is still rebooting (the call is refused). */
  bootTick(node: SimNode): boolean {
    if (!node.rebootingFor) return false;
    if (--node.rebootingFor === 0) this.boot(node);
    return true;
  }

  private boot(node: SimNode): void {
    node.rebootingFor = 0;
    node.bootId = randomUUID();
    if (node.pendingVersion && node.pendingVersion !== node.version) {
      node.previousVersion = node.version;
      node.version = node.pendingVersion;
    }
    node.pendingVersion = undefined;
    if (node.stagedConfig) node.machineConfig = node.stagedConfig;
    node.stagedConfig = undefined;
    this.changed(node);
  }

  /** Calls `fn` whenever a node's state changes through `changed` (backs COSI Watch). */
  onChange(fn: (node: SimNode) => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
      for (const w of [...this.watcherWaiters]) w();
    };
  }

  private readonly watcherWaiters = new Set<() => void>();

  /** Resolves once at most `n` watches are open (tests: a cancelled Watch has let go on the server). */
  watchersAtMost(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.listeners.size > n) return;
        this.watcherWaiters.delete(check);
        resolve();
      };
      this.watcherWaiters.add(check);
      check();
    });
  }

  /** Tells watchers that `node`'s resources may differ now. */
  changed(node: SimNode): void {
    for (const fn of this.listeners) fn(node);
  }

  /** Changes a service's state or health on a node, as a test or demo scenario would. */
  setService(target: string, id: string, patch: Partial<Omit<SimService, "id">>): void {
    const node = this.find(target);
    const svc = node?.services.find((s) => s.id === id);
    if (!node || !svc) throw new Error(`no service ${id} on ${target}`);
    Object.assign(svc, patch);
    this.changed(node);
  }

  /** Configured control planes that are (still) etcd members. */
  controlPlanes(): SimNode[] {
    return this.nodes.filter((n) => n.role === "controlplane" && !n.maintenance && !n.leftEtcd);
  }

  /** Nodes with a config: the cluster's members (maintenance-mode nodes are not, yet). */
  configured(): SimNode[] {
    return this.nodes.filter((n) => !n.maintenance);
  }

  /** Every COSI resource a node serves, computed from its current state (lib/sim/resources.ts). */
  resources(node: SimNode): SimResource[] {
    return nodeResources(this, node, this.secrets);
  }
}
