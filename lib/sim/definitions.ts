/**
 * @module The COSI resource definitions the simulator serves, with aliases
 * computed the way COSI computes them (singular and plural
 * names, plural with suffix parts, capital-letter initials).
 */
import protobuf from "protobufjs";

export interface SimDefinition {
  type: string;
  displayType: string;
  defaultNamespace: string;
  aliases: string[];
  allAliases: string[];
  sensitivity?: "sensitive";
}

/** [canonical type, default namespace, explicit aliases, sensitive?] */
const TYPES: Array<[string, string, string[], boolean?]> = [
  ["ResourceDefinitions.meta.cosi.dev", "meta", []],
  ["Namespaces.meta.cosi.dev", "meta", ["ns"]],
  ["MachineStatuses.runtime.talos.dev", "runtime", []],
  ["Services.v1alpha1.talos.dev", "runtime", ["svc"]],
  ["Members.cluster.talos.dev", "cluster", []],
  ["Infos.cluster.talos.dev", "cluster", []],
  ["NodeAddresses.net.talos.dev", "network", []],
  ["AddressStatuses.net.talos.dev", "network", ["address", "addresses"]],
  ["LinkStatuses.net.talos.dev", "network", ["link", "links"]],
  ["RouteStatuses.net.talos.dev", "network", ["route", "routes"]],
  ["HostnameStatuses.net.talos.dev", "network", ["hostname"]],
  ["ResolverStatuses.net.talos.dev", "network", ["resolvers"]],
  ["TimeStatuses.v1alpha1.talos.dev", "runtime", []],
  ["MachineConfigs.config.talos.dev", "config", [], true],
  ["MachineTypes.config.talos.dev", "config", []],
  ["EtcdMembers.etcd.talos.dev", "etcd", []],
  ["NodeStatuses.kubernetes.talos.dev", "k8s", []],
  ["KubeletSpecs.kubernetes.talos.dev", "k8s", []],
  ["StaticPodStatuses.kubernetes.talos.dev", "k8s", ["podstatus"]],
  ["Diagnostics.runtime.talos.dev", "runtime", []],
  ["ExtensionStatuses.runtime.talos.dev", "runtime", ["extensions"]],
  ["SystemInformations.hardware.talos.dev", "hardware", ["systeminformation"]],
  ["CertSANs.secrets.talos.dev", "secrets", [], true],
  ["OSRootSecrets.secrets.talos.dev", "secrets", [], true],
  ["Disks.block.talos.dev", "runtime", []],
  ["VolumeStatuses.block.talos.dev", "runtime", []],
  ["MountStatuses.runtime.talos.dev", "runtime", ["mounts"]],
  ["KernelParamStatuses.runtime.talos.dev", "runtime", ["sysctls"]],
  ["Versions.runtime.talos.dev", "runtime", []],
  ["MetaKeys.runtime.talos.dev", "runtime", []],
];

function singular(plural: string): string {
  if (plural.endsWith("ses")) return plural.slice(0, -2);
  if (plural.endsWith("ies")) return plural.slice(0, -3) + "y";
  return plural.replace(/s$/, "");
}

/** COSI's automatic aliases: singular, plural, plural.suffix..., capital initials (+s). */
function automaticAliases(type: string): string[] {
  const [plural, ...suffix] = type.split(".");
  const out = [singular(plural).toLowerCase(), plural.toLowerCase()];
  for (let i = 1; i < suffix.length; i++) out.push([plural, ...suffix.slice(0, i)].join(".").toLowerCase());
  const caps = plural.replace(/[^A-Z]/g, "");
  if (caps.length >= 2) {
    out.push(caps.toLowerCase());
    if (!caps.endsWith("S")) out.push(caps.toLowerCase() + "s");
  }
  return out;
}

export const DEFINITIONS: SimDefinition[] = TYPES.map(([type, ns, explicit, sensitive]) => {
  const all = [...new Set([...automaticAliases(type), ...explicit])];
  const display = singular(type.split(".")[0]);
  return {
    type,
    displayType: display,
    defaultNamespace: ns,
    aliases: [...new Set([display.toLowerCase(), ...explicit, ...all.filter((a) => a.length <= 4)])],
    allAliases: all,
    ...(sensitive ? { sensitivity: "sensitive" as const } : {}),
  };
});

/**
 * The protobuf form of a definition (cosi.resource.meta.ResourceDefinitionSpec),
 * which real COSI servers send as proto_spec beside yaml_spec; clients built on
 * the Go COSI runtime read definitions from it.
 */
export function definitionProtoSpec(d: SimDefinition): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string(d.type); // resource_type = 1
  w.uint32((2 << 3) | 2).string(d.displayType); // display_type = 2
  w.uint32((3 << 3) | 2).string(d.defaultNamespace); // default_namespace = 3
  for (const a of d.aliases) w.uint32((4 << 3) | 2).string(a); // aliases = 4
  for (const a of d.allAliases) w.uint32((5 << 3) | 2).string(a); // all_aliases = 5
  if (d.sensitivity === "sensitive") w.uint32(7 << 3).int32(1); // sensitivity = 7 (SENSITIVE)
  return w.finish();
}

/** cosi.resource.meta.NamespaceSpec { string description = 1; } */
export function namespaceProtoSpec(description: string): Uint8Array {
  return protobuf.Writer.create().uint32((1 << 3) | 2).string(description).finish();
}
