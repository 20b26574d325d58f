/**
 * @module The proto_spec of every COSI resource the simulator serves. Real Talos sends it beside
 * yaml_spec, and clients built on the Go COSI runtime decode registered types from it alone, so a
 * resource without it reads as all zero values there (stage "unknown", not ready).
 */
import protobuf from "protobufjs";
import source from "./resource_specs.proto" with { type: "text" };

type Spec = Record<string, unknown>;
type ToProto = (spec: Spec) => Record<string, unknown>;

let root: protobuf.Root | undefined;
/** Parsed on first use, as lib/talos/protos.ts does, to keep start-up cheap. */
function message(name: string): protobuf.Type {
  root ??= protobuf.parse(source, { keepCase: true }).root;
  return root.lookupType(`talos_mcp.sim.${name}`);
}

// Talos enums as their YAML names (enums.proto in the Talos API).
const STAGE: Record<string, number> = {
  unknown: 0,
  booting: 1,
  installing: 2,
  maintenance: 3,
  running: 4,
  rebooting: 5,
  "shutting down": 6,
  resetting: 7,
  upgrading: 8,
};
const MACHINE_TYPE: Record<string, number> = { unknown: 0, init: 1, controlplane: 2, worker: 3 };
const FAMILY: Record<string, number> = { inet4: 2, inet6: 10 };
const SCOPE: Record<string, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };
const ADDRESS_FLAG: Record<string, number> = { temporary: 1, nodad: 2, permanent: 128 };
const LINK_TYPE: Record<string, number> = { ether: 1, loopback: 772 };
const OPER_STATE: Record<string, number> = { unknown: 0, notpresent: 1, down: 2, up: 6 };
const TABLE: Record<string, number> = { unspec: 0, main: 254, local: 255 };
const PROTOCOL: Record<string, number> = { unspec: 0, kernel: 2, boot: 3, static: 4, dhcp: 16 };

function named(map: Record<string, number>, value: unknown, what: string): number {
  const n = map[String(value)];
  if (n === undefined) throw new Error(`simulator: no protobuf number for ${what} "${value}"`);
  return n;
}

function ipBytes(ip: string): Buffer {
  if (ip.includes(":")) throw new Error(`simulator: IPv6 ${ip} has no proto encoding here`);
  return Buffer.from(ip.split(".").map(Number));
}
const netIP = (ip: unknown) => (ip ? { ip: ipBytes(String(ip)) } : undefined);
function netPrefix(cidr: unknown) {
  if (!cidr) return undefined;
  const [ip, len] = String(cidr).split("/");
  return { ip: ipBytes(ip), prefix_length: Number(len) };
}

/** A JSON-like value as google.protobuf.Value (Talos sends Kubernetes objects this way). */
function value(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return { null_value: 0 };
  if (typeof v === "number") return { number_value: v };
  if (typeof v === "string") return { string_value: v };
  if (typeof v === "boolean") return { bool_value: v };
  if (Array.isArray(v)) return { list_value: { values: v.map(value) } };
  return { struct_value: struct(v as Spec) };
}
const struct = (o: Spec) => ({ fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, value(v)])) });

/** Canonical type → [message, YAML spec → message fields]. */
const SPECS: Record<string, [string, ToProto]> = {
  "MachineStatuses.runtime.talos.dev": ["MachineStatusSpec", (s) => {
    const status = (s.status ?? {}) as Spec;
    return {
      stage: named(STAGE, s.stage, "machine stage"),
      status: { ready: status.ready, unmet_conditions: status.unmetConditions ?? [] },
    };
  }],
  "Services.v1alpha1.talos.dev": ["ServiceSpec", (s) => s],
  "Members.cluster.talos.dev": ["MemberSpec", (s) => ({
    node_id: s.nodeId,
    addresses: (s.addresses as string[]).map(netIP),
    hostname: s.hostname,
    machine_type: named(MACHINE_TYPE, s.machineType, "machine type"),
    operating_system: s.operatingSystem,
    control_plane: s.controlPlane ? { api_server_port: (s.controlPlane as Spec).apiServerPort } : undefined,
  })],
  "Infos.cluster.talos.dev": ["InfoSpec", (s) => ({ cluster_id: s.clusterId, cluster_name: s.clusterName })],
  "NodeAddresses.net.talos.dev": ["NodeAddressSpec", (s) => ({
    addresses: (s.addresses as string[]).map(netPrefix),
  })],
  "AddressStatuses.net.talos.dev": ["AddressStatusSpec", (s) => ({
    address: netPrefix(s.address),
    local: netIP(s.local),
    link_name: s.linkName,
    family: named(FAMILY, s.family, "address family"),
    scope: named(SCOPE, s.scope, "scope"),
    flags: String(s.flags ?? "").split(",").filter(Boolean).reduce((acc, f) => acc | named(ADDRESS_FLAG, f, "flag"), 0),
  })],
  "LinkStatuses.net.talos.dev": ["LinkStatusSpec", (s) => ({
    type: named(LINK_TYPE, s.type, "link type"),
    hardware_addr: Buffer.from(String(s.hardwareAddr ?? "").replace(/:/g, ""), "hex"),
    mtu: s.mtu,
    operational_state: named(OPER_STATE, s.operationalState, "operational state"),
    kind: s.kind,
    link_state: s.linkState,
  })],
  "RouteStatuses.net.talos.dev": ["RouteStatusSpec", (s) => ({
    family: named(FAMILY, s.family, "route family"),
    destination: netPrefix(s.dst),
    source: netIP(s.src),
    gateway: netIP(s.gateway),
    out_link_name: s.outLinkName,
    table: named(TABLE, s.table, "routing table"),
    priority: s.priority,
    scope: named(SCOPE, s.scope, "scope"),
    protocol: named(PROTOCOL, s.protocol, "route protocol"),
  })],
  "HostnameStatuses.net.talos.dev": ["HostnameStatusSpec", (s) => s],
  "ResolverStatuses.net.talos.dev": ["ResolverStatusSpec", (s) => ({
    dns_servers: ((s.dnsServers ?? []) as string[]).map(netIP),
    search_domains: s.searchDomains ?? [],
  })],
  "TimeStatuses.v1alpha1.talos.dev": ["TimeStatusSpec", (s) => ({
    synced: s.synced,
    epoch: s.epoch,
    sync_disabled: s.syncDisabled,
  })],
  "MachineTypes.config.talos.dev": ["MachineTypeSpec", (s) => ({
    machine_type: named(MACHINE_TYPE, s, "machine type"),
  })],
  "EtcdMembers.etcd.talos.dev": ["EtcdMemberSpec", (s) => ({ member_id: s.memberID })],
  "NodeStatuses.kubernetes.talos.dev": ["NodeStatusSpec", (s) => ({
    nodename: s.nodename,
    node_ready: s.nodeReady,
    unschedulable: s.unschedulable,
    labels: s.labels ?? {},
    annotations: s.annotations ?? {},
  })],
  "KubeletSpecs.kubernetes.talos.dev": ["KubeletSpecSpec", (s) => ({
    image: s.image,
    args: s.args ?? [],
    expected_nodename: s.expectedNodename,
    config: s.config ? struct(s.config as Spec) : undefined,
  })],
  "StaticPodStatuses.kubernetes.talos.dev": ["StaticPodStatusSpec", (s) => ({ pod_status: struct(s) })],
  "Diagnostics.runtime.talos.dev": ["DiagnosticSpec", (s) => ({ message: s.message, details: s.details ?? [] })],
  "SystemInformations.hardware.talos.dev": ["SystemInformationSpec", (s) => ({
    manufacturer: s.manufacturer,
    product_name: s.productName,
    version: s.version,
    serial_number: s.serialnumber,
    uuid: s.uuid,
  })],
  "OSRootSecrets.secrets.talos.dev": ["OSRootSpec", (s) => {
    const ca = (s.issuingCA ?? {}) as Spec;
    return { issuing_ca: { crt: Buffer.from(String(ca.crt), "base64"), key: Buffer.from(String(ca.key), "base64") } };
  }],
  "Disks.block.talos.dev": ["DiskSpec", (s) => ({
    size: s.size,
    readonly: s.readonly,
    model: s.model,
    serial: s.serial,
    transport: s.transport,
    rotational: s.rotational,
    dev_path: s.dev_path,
  })],
  "MetaKeys.runtime.talos.dev": ["MetaKeySpec", (s) => ({ value: s.value })],
  "Versions.runtime.talos.dev": ["VersionSpec", (s) => ({ version: s.version, name: s.name })],
};

/** Types whose proto_spec this module encodes. */
export const PROTO_SPEC_TYPES: ReadonlySet<string> = new Set(Object.keys(SPECS));

/** The proto_spec of a `type` resource whose YAML spec is `spec`; throws for a type without one. */
export function resourceProtoSpec(type: string, spec: unknown): Uint8Array {
  const entry = SPECS[type];
  if (!entry) throw new Error(`simulator: no proto_spec encoding for ${type}`);
  const [name, toProto] = entry;
  const t = message(name);
  const fields = toProto(spec as Spec);
  const err = t.verify(fields);
  if (err) throw new Error(`simulator: ${type} proto_spec: ${err}`);
  return t.encode(t.fromObject(fields)).finish();
}
