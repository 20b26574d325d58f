/**
 * @module What runs on a simulated node: Kubernetes pods and containers (CRI,
 * namespace k8s.io), Talos system containers (namespace system) and processes,
 * derived from the node's role so every handler sees the same picture.
 */
import { createHash } from "node:crypto";
import type { SimNode } from "./model.ts";

export interface SimContainer {
  /** Display id: `<k8s-ns>/<pod>:<container>` (CRI) or the service id (system). */
  id: string;
  podId: string;
  name: string;
  image: string;
  pid: number;
  status: string;
  internalId: string;
}

const K8S = "v1.34.1";
const hash = (s: string, n = 64) => createHash("sha256").update(s).digest("hex").slice(0, n);
const suffix = (node: SimNode, pod: string) => hash(node.hostname + pod, 5);

/** Pods of the node as [k8s namespace, pod name, container name, image]. */
function pods(node: SimNode): Array<[string, string, string, string]> {
  const out: Array<[string, string, string, string]> = [];
  if (node.role === "controlplane") {
    for (const c of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
      out.push(["kube-system", `${c}-${node.hostname}`, c, `registry.k8s.io/${c}:${K8S}`]);
    }
  }
  out.push(["kube-system", `kube-proxy-${suffix(node, "proxy")}`, "kube-proxy", `registry.k8s.io/kube-proxy:${K8S}`]);
  out.push([
    "kube-system",
    `kube-flannel-${suffix(node, "flannel")}`,
    "kube-flannel",
    "ghcr.io/siderolabs/flannel:v0.27.4",
  ]);
  if (node.role === "worker") {
    out.push([
      "kube-system",
      `coredns-78d87fb69b-${suffix(node, "dns")}`,
      "coredns",
      "registry.k8s.io/coredns/coredns:v1.12.4",
    ]);
  }
  return out;
}

/** CRI view: a sandbox and a container per pod, as `talosctl containers -k` shows them. */
export function criContainers(node: SimNode): SimContainer[] {
  const kubeletUp = node.services.find((s) => s.id === "kubelet")?.state === "Running";
  return pods(node).flatMap(([ns, pod, name, image], i) => {
    const podId = `${ns}/${pod}`;
    const pid = 2000 + i * 10;
    return [
      {
        id: podId,
        podId,
        name: "",
        image: "registry.k8s.io/pause:3.10",
        pid: pid - 1,
        status: "SANDBOX_READY",
        internalId: hash(podId),
      },
      {
        id: `${podId}:${name}`,
        podId,
        name,
        image,
        pid: kubeletUp ? pid : 0,
        status: kubeletUp ? "CONTAINER_RUNNING" : "CONTAINER_EXITED",
        internalId: hash(`${podId}:${name}`),
      },
    ];
  });
}

/** Talos system containers (namespace `system`): the services that run as containers. */
export function systemContainers(node: SimNode): SimContainer[] {
  const images: Record<string, string> = {
    apid: "talos/apid",
    trustd: "talos/trustd",
    etcd: "gcr.io/etcd-development/etcd:v3.6.5",
    kubelet: `ghcr.io/siderolabs/kubelet:${K8S}`,
  };
  return node.services.filter((s) => images[s.id]).map((s, i) => ({
    id: s.id,
    podId: "",
    name: s.id,
    image: images[s.id],
    pid: s.state === "Running" ? 900 + i * 7 : 0,
    status: s.state === "Running" ? "RUNNING" : "STOPPED",
    internalId: s.id,
  }));
}

export interface SimProcess {
  pid: number;
  ppid: number;
  state: string;
  threads: number;
  cpuTime: number;
  virtualMemory: number;
  residentMemory: number;
  command: string;
  executable: string;
  args: string;
}

/** `ps`-like process table: machined, containerd, the services and the pods' main processes. */
export function processes(node: SimNode): SimProcess[] {
  const p = (pid: number, ppid: number, exe: string, args: string, cpu: number, rssMiB: number, threads = 12) => ({
    pid,
    ppid,
    state: "S",
    threads,
    cpuTime: cpu,
    virtualMemory: (rssMiB * 4 + 700) * 1048576,
    residentMemory: rssMiB * 1048576,
    command: exe.split("/").pop()!.slice(0, 15),
    executable: exe,
    args,
  });
  const out: SimProcess[] = [
    p(1, 0, "/sbin/init", "/sbin/init", 412.5, 98),
    p(310, 1, "/sbin/udevd", "/sbin/udevd --resolve-names=never", 3.1, 6, 1),
    p(402, 1, "/bin/containerd", "/bin/containerd --address /system/run/containerd/containerd.sock", 88.2, 54),
    p(
      650,
      1,
      "/bin/containerd",
      "/bin/containerd --address /run/containerd/containerd.sock --config /etc/cri/containerd.toml",
      140.7,
      71,
    ),
    p(901, 402, "/apid", "/apid", 35.4, 38),
    p(
      1200,
      650,
      "/usr/local/bin/kubelet",
      `/usr/local/bin/kubelet --config=/etc/kubernetes/kubelet.yaml --kubeconfig=/etc/kubernetes/kubeconfig-kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubeconfig --hostname-override=${node.hostname}`,
      530.9,
      122,
      24,
    ),
  ];
  if (node.role === "controlplane") {
    out.push(
      p(
        908,
        402,
        "/usr/local/bin/etcd",
        `/usr/local/bin/etcd --name=${node.hostname} --data-dir=/var/lib/etcd --cert-file=/system/secrets/etcd/peer.crt --key-file=/system/secrets/etcd/peer.key --listen-client-urls=https://0.0.0.0:2379`,
        1210.2,
        210,
        18,
      ),
      p(915, 402, "/trustd", "/trustd", 4.2, 22),
      p(
        2000,
        1990,
        "/usr/local/bin/kube-apiserver",
        `/usr/local/bin/kube-apiserver --advertise-address=${node.ip} --etcd-servers=https://localhost:2379 --service-account-key-file=/system/secrets/kubernetes/kube-apiserver/service-account.pub --token-auth-file=/dev/null --kubelet-client-key=/system/secrets/kubernetes/kube-apiserver/apiserver-kubelet-client.key`,
        2440.8,
        690,
        16,
      ),
      p(
        2010,
        2009,
        "/usr/local/bin/kube-controller-manager",
        "/usr/local/bin/kube-controller-manager --use-service-account-credentials=true --kubeconfig=/system/secrets/kubernetes/kube-controller-manager/kubeconfig",
        610.3,
        160,
      ),
      p(
        2020,
        2019,
        "/usr/local/bin/kube-scheduler",
        "/usr/local/bin/kube-scheduler --kubeconfig=/system/secrets/kubernetes/kube-scheduler/kubeconfig",
        150.6,
        60,
      ),
    );
  } else {
    // A workload started with a secret on its command line: masking must catch it.
    out.push(
      p(
        3100,
        3090,
        "/usr/bin/backup-agent",
        "/usr/bin/backup-agent --s3-endpoint=https://backup:Sup3rS3cretPw@s3.example.com --api-token=tk_live_9f8e7d6c5b4a",
        12.9,
        35,
      ),
    );
  }
  return out;
}
