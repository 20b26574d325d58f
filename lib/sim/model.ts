/**
 * @module The simulated cluster's state: nodes with realistic Talos data
 * (versions, services, COSI resources, machine config) and per-node faults
 * that tests and demos switch on and off.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { stringify } from "yaml";
import { DEFINITIONS } from "./definitions.ts";

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

function uint64(): string {
  return BigInt("0x" + randomBytes(8).toString("hex")).toString(); // usually > 2^53: must survive as a string
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

function fakeKeyPem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString()
    .replace(/(BEGIN|END) PRIVATE KEY/g, "$1 ED25519 PRIVATE KEY");
}

/** A machine config shaped like `talosctl gen config` output, with (fake) secrets in the usual places. */
function machineConfig(node: { hostname: string; role: Role; ip: string }, cluster: ClusterSecrets): string {
  const v1alpha1 = {
    version: "v1alpha1",
    debug: false,
    persist: true,
    machine: {
      type: node.role,
      token: cluster.machineToken,
      ca: { crt: cluster.osCaCrt, key: cluster.osCaKey },
      certSANs: [],
      kubelet: { image: "ghcr.io/siderolabs/kubelet:v1.34.1", defaultRuntimeSeccompProfileEnabled: true },
      network: { hostname: node.hostname },
      install: { disk: "/dev/sda", image: "ghcr.io/siderolabs/installer:v1.13.9", wipe: false },
      features: { rbac: true, stableHostname: true, apidCheckExtKeyUsage: true },
    },
    cluster: {
      id: cluster.id,
      secret: cluster.secret,
      controlPlane: { endpoint: "https://10.5.0.2:6443" },
      clusterName: cluster.name,
      network: { dnsDomain: "cluster.local", podSubnets: ["10.244.0.0/16"], serviceSubnets: ["10.96.0.0/12"] },
      token: cluster.bootstrapToken,
      secretboxEncryptionSecret: cluster.secretbox,
      ca: { crt: cluster.k8sCaCrt, key: cluster.k8sCaKey },
      serviceAccount: { key: cluster.saKey },
      etcd: { ca: { crt: cluster.etcdCaCrt, key: cluster.etcdCaKey } },
      discovery: { enabled: true },
    },
  };
  const hostnameDoc = { apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: node.hostname };
  return [stringify(v1alpha1), stringify(hostnameDoc)].join("---\n");
}

interface ClusterSecrets {
  name: string;
  id: string;
  secret: string;
  machineToken: string;
  bootstrapToken: string;
  secretbox: string;
  osCaCrt: string;
  osCaKey: string;
  k8sCaCrt: string;
  k8sCaKey: string;
  saKey: string;
  etcdCaCrt: string;
  etcdCaKey: string;
}

function clusterSecrets(name: string): ClusterSecrets {
  const token = () => `${randomBytes(3).toString("hex")}.${randomBytes(8).toString("hex")}`;
  const crt = b64("-----BEGIN CERTIFICATE-----\nMIIBPzCB8qADAgECAhEA\n-----END CERTIFICATE-----\n");
  return {
    name,
    id: randomBytes(32).toString("base64"),
    secret: randomBytes(32).toString("base64"),
    machineToken: token(),
    bootstrapToken: token(),
    secretbox: randomBytes(32).toString("base64"),
    osCaCrt: crt,
    osCaKey: b64(fakeKeyPem()),
    k8sCaCrt: crt,
    k8sCaKey: b64(fakeKeyPem()),
    saKey: b64(fakeKeyPem()),
    etcdCaCrt: crt,
    etcdCaKey: b64(fakeKeyPem()),
  };
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
      });
    }
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

  controlPlanes(): SimNode[] {
    return this.nodes.filter((n) => n.role === "controlplane");
  }

  /** Every COSI resource a node serves, computed from its current state. */
  resources(node: SimNode): SimResource[] {
    const r = (namespace: string, type: string, id: string, spec: unknown, extra: Partial<SimResource> = {}) => ({
      namespace,
      type,
      id,
      version: 1,
      owner: "",
      spec,
      ...extra,
    });
    const out: SimResource[] = DEFINITIONS.map((d) =>
      r("meta", "ResourceDefinitions.meta.cosi.dev", d.type.toLowerCase(), d)
    );
    for (const ns of ["runtime", "config", "network", "cluster", "etcd", "k8s", "secrets", "hardware", "meta"]) {
      out.push(r("meta", "Namespaces.meta.cosi.dev", ns, { description: `${ns} resources` }));
    }
    const running = !node.faults.down;
    out.push(r("runtime", "MachineStatuses.runtime.talos.dev", "machine", {
      stage: running ? "running" : "rebooting",
      status: { ready: running, unmetConditions: [] },
    }, { owner: "runtime.MachineStatusController" }));
    for (const s of node.services) {
      out.push(r("runtime", "Services.v1alpha1.talos.dev", s.id, {
        running: s.state === "Running",
        healthy: s.healthy === true,
        unknown: s.healthy === null,
      }, { owner: "v1alpha1.ServiceController" }));
    }
    for (const n of this.nodes) {
      out.push(r("cluster", "Members.cluster.talos.dev", n.hostname, {
        nodeId: n.etcdMemberId.slice(0, 10),
        addresses: [n.ip],
        hostname: n.hostname,
        machineType: n.role,
        operatingSystem: `Talos (${n.version})`,
        controlPlane: n.role === "controlplane" ? { apiServerPort: 6443 } : null,
      }, { owner: "cluster.MemberController" }));
    }
    out.push(r("cluster", "Infos.cluster.talos.dev", "current", { clusterId: "c1u5t3r", clusterName: this.name }));
    out.push(r("network", "NodeAddresses.net.talos.dev", "current", { addresses: [`${node.ip}/24`] }));
    out.push(r("network", "AddressStatuses.net.talos.dev", `eth0/${node.ip}/24`, {
      address: `${node.ip}/24`,
      local: node.ip,
      linkName: "eth0",
      family: "inet4",
      scope: "global",
      flags: "permanent",
    }));
    for (const link of ["lo", "eth0"]) {
      out.push(r("network", "LinkStatuses.net.talos.dev", link, {
        type: link === "lo" ? "loopback" : "ether",
        kind: "",
        operationalState: link === "lo" ? "unknown" : "up",
        linkState: true,
        mtu: link === "lo" ? 65536 : 1500,
        hardwareAddr: link === "lo" ? "00:00:00:00:00:00" : `52:54:00:05:00:${node.ip.split(".")[3].padStart(2, "0")}`,
      }));
    }
    out.push(r("network", "RouteStatuses.net.talos.dev", "inet4/10.5.0.1//1024", {
      family: "inet4",
      dst: "",
      src: node.ip,
      gateway: "10.5.0.1",
      outLinkName: "eth0",
      table: "main",
      priority: 1024,
      scope: "global",
      protocol: "static",
    }));
    out.push(r("network", "HostnameStatuses.net.talos.dev", "hostname", { hostname: node.hostname, domainname: "" }));
    out.push(r("network", "ResolverStatuses.net.talos.dev", "resolvers", { dnsServers: ["10.5.0.1"] }));
    out.push(r("runtime", "TimeStatuses.v1alpha1.talos.dev", "node", { synced: true, epoch: 1, syncDisabled: false }));
    out.push(r("runtime", "Versions.runtime.talos.dev", "version", { version: node.version }));
    out.push(r("hardware", "SystemInformations.hardware.talos.dev", "systeminformation", {
      manufacturer: "QEMU",
      productName: "Standard PC (Q35 + ICH9, 2009)",
      uuid: node.bootId,
    }));
    out.push(r("runtime", "Disks.block.talos.dev", "sda", {
      dev_path: "/dev/sda",
      size: 107374182400,
      pretty_size: "107 GB",
      model: "QEMU HARDDISK",
      transport: "virtio",
      rotational: true,
      readonly: false,
    }));
    out.push(r("config", "MachineTypes.config.talos.dev", "machine-type", node.role, { yamlSpec: `${node.role}\n` }));
    for (const id of ["v1alpha1", "persistent"]) {
      out.push(r("config", "MachineConfigs.config.talos.dev", id, null, machineConfigEncoding(node)));
    }
    out.push(r("secrets", "OSRootSecrets.secrets.talos.dev", "os", {
      issuingCA: { crt: this.secrets.osCaCrt, key: this.secrets.osCaKey },
    }));
    if (node.role === "controlplane") {
      out.push(r("etcd", "EtcdMembers.etcd.talos.dev", "local", {
        memberID: BigInt(node.etcdMemberId).toString(16).padStart(16, "0"),
      }));
      for (const pod of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
        out.push(r("k8s", "StaticPodStatuses.kubernetes.talos.dev", `kube-system/${pod}-${node.hostname}`, {
          phase: "Running",
          conditions: [{ type: "Ready", status: "True" }],
        }));
      }
    }
    for (const d of node.diagnostics ?? []) {
      out.push(r("runtime", "Diagnostics.runtime.talos.dev", d.id, { message: d.message, details: d.details }));
    }
    out.push(r("k8s", "KubeletSpecs.kubernetes.talos.dev", "kubelet", {
      image: "ghcr.io/siderolabs/kubelet:v1.34.1",
      args: [`--hostname-override=${node.hostname}`],
      expectedNodename: node.hostname,
    }));
    out.push(r("k8s", "NodeStatuses.kubernetes.talos.dev", node.hostname, {
      nodename: node.hostname,
      nodeReady: true,
      unschedulable: false,
      labels: { "kubernetes.io/hostname": node.hostname },
    }));
    return out;
  }
}

/** MachineConfig on the wire: a string scalar with an annotation since 1.12, raw text before (§6.4). */
function machineConfigEncoding(node: SimNode): Partial<SimResource> {
  const minor = Number(/^v?1\.(\d+)/.exec(node.version)?.[1] ?? 13);
  const text = node.machineConfig;
  const bytes = Buffer.from(text);
  // MachineConfigSpec { bytes yaml_marshalled = 1; } encoded by hand: tag 0x0a, varint length, bytes.
  const lenBytes: number[] = [];
  for (let n = bytes.length;; n >>>= 7) {
    lenBytes.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    if (n < 0x80) break;
  }
  const protoSpec = Buffer.concat([Buffer.from([0x0a, ...lenBytes]), bytes]);
  return minor >= 12
    ? { yamlSpec: stringify(text), annotations: { "talos.dev/yaml-spec": "1" }, protoSpec }
    : { yamlSpec: text, protoSpec };
}
