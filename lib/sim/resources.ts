/**
 * @module The COSI resources a simulated node serves (definitions, namespaces, runtime, config,
 * network, cluster, etcd, secrets, Kubernetes), computed from the model's current state.
 */
import { definitionProtoSpec, DEFINITIONS, namespaceProtoSpec } from "./definitions.ts";
import { nodeK8sImages, STATIC_PODS, staticPodStatus } from "./kubernetes.ts";
import { type ClusterSecrets, machineConfigEncoding } from "./machine_config.ts";
import type { SimCluster, SimNode, SimResource } from "./model.ts";

/** Every COSI resource `node` serves now. */
export function nodeResources(cluster: SimCluster, node: SimNode, secrets: ClusterSecrets): SimResource[] {
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
    r("meta", "ResourceDefinitions.meta.cosi.dev", d.type.toLowerCase(), d, { protoSpec: definitionProtoSpec(d) })
  );
  for (const ns of ["runtime", "config", "network", "cluster", "etcd", "k8s", "secrets", "hardware", "meta"]) {
    const description = `${ns} resources`;
    out.push(
      r("meta", "Namespaces.meta.cosi.dev", ns, { description }, { protoSpec: namespaceProtoSpec(description) }),
    );
  }
  const running = !node.faults.down;
  const unmet = unmetConditions(node);
  out.push(r("runtime", "MachineStatuses.runtime.talos.dev", "machine", {
    stage: running ? "running" : "rebooting",
    status: { ready: running && !unmet.length, unmetConditions: unmet },
  }, { owner: "runtime.MachineStatusController" }));
  for (const s of node.services) {
    out.push(r("runtime", "Services.v1alpha1.talos.dev", s.id, {
      running: s.state === "Running",
      healthy: s.healthy === true,
      unknown: s.healthy === null,
    }, { owner: "v1alpha1.ServiceController" }));
  }
  for (const n of cluster.configured()) {
    out.push(r("cluster", "Members.cluster.talos.dev", n.hostname, {
      nodeId: n.etcdMemberId.slice(0, 10),
      addresses: [n.ip],
      hostname: n.hostname,
      machineType: n.role,
      operatingSystem: `Talos (${n.version})`,
      controlPlane: n.role === "controlplane" ? { apiServerPort: 6443 } : null,
    }, { owner: "cluster.MemberController" }));
  }
  out.push(r("cluster", "Infos.cluster.talos.dev", "current", { clusterId: "c1u5t3r", clusterName: cluster.name }));
  out.push(r("network", "NodeAddresses.net.talos.dev", "current", { addresses: [`${node.ip}/24`] }));
  out.push(r("network", "AddressStatuses.net.talos.dev", `eth0/${node.ip}/24`, {
    address: `${node.ip}/24`,
    local: node.ip,
    linkName: "eth0",
    family: "inet4",
    scope: "global",
    flags: "permanent",
  }));
  const planted = node.planted ?? {};
  for (const link of ["lo", "eth0"]) {
    const down = link === "eth0" && planted.linkDown;
    out.push(r("network", "LinkStatuses.net.talos.dev", link, {
      type: link === "lo" ? "loopback" : "ether",
      kind: "",
      operationalState: link === "lo" ? "unknown" : down ? "down" : "up",
      linkState: !down,
      mtu: link === "lo" ? 65536 : 1500,
      hardwareAddr: link === "lo" ? "00:00:00:00:00:00" : `52:54:00:05:00:${node.ip.split(".")[3].padStart(2, "0")}`,
    }));
  }
  // The default route, unless a scenario took it away.
  if (!planted.noDefaultRoute) {
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
  }
  out.push(r("network", "HostnameStatuses.net.talos.dev", "hostname", { hostname: node.hostname, domainname: "" }));
  out.push(r("network", "ResolverStatuses.net.talos.dev", "resolvers", { dnsServers: ["10.5.0.1"] }));
  out.push(r("runtime", "TimeStatuses.v1alpha1.talos.dev", "node", {
    synced: !planted.timeNotSynced,
    epoch: 1,
    syncDisabled: false,
  }));
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
    issuingCA: { crt: secrets.osCaCrt, key: secrets.osCaKey },
  }));
  if (node.role === "controlplane") {
    out.push(r("etcd", "EtcdMembers.etcd.talos.dev", "local", {
      memberID: BigInt(node.etcdMemberId).toString(16).padStart(16, "0"),
    }));
    const images = nodeK8sImages(node).pods;
    for (const pod of Object.keys(STATIC_PODS) as Array<keyof typeof STATIC_PODS>) {
      const status = staticPodStatus(node, pod, images[pod] ?? "");
      out.push(r("k8s", "StaticPodStatuses.kubernetes.talos.dev", `kube-system/${pod}-${node.hostname}`, status));
    }
  }
  for (const [key, value] of node.meta) {
    // Talos names META key resources by the key in hex, two digits (0x0c).
    out.push(r("runtime", "MetaKeys.runtime.talos.dev", `0x${key.toString(16).padStart(2, "0")}`, { value }));
  }
  for (const d of node.diagnostics ?? []) {
    out.push(r("runtime", "Diagnostics.runtime.talos.dev", d.id, { message: d.message, details: d.details }));
  }
  out.push(r("k8s", "KubeletSpecs.kubernetes.talos.dev", "kubelet", {
    image: nodeK8sImages(node).kubelet ?? "",
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

/**
 * MachineStatus' unmet conditions as Talos derives them: time not in sync and unhealthy services
 * hold readiness back, as do the conditions a scenario planted.
 */
function unmetConditions(node: SimNode): Array<{ name: string; reason: string }> {
  const out: Array<{ name: string; reason: string }> = [];
  if (node.planted?.timeNotSynced) out.push({ name: "time", reason: "time is not synced" });
  const sick = node.services.filter((s) => s.healthy === false || !["Running", "Finished"].includes(s.state));
  if (sick.length) {
    out.push({ name: "services", reason: `some services are not healthy: ${sick.map((s) => s.id).join(", ")}` });
  }
  return [...out, ...(node.planted?.unmet ?? [])];
}
