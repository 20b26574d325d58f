/**
 * @module Simulated logs: each Talos service's log (in the format that
 * service really writes), CRI container logs (`<time> stdout|stderr F <text>`)
 * and the kernel ring buffer (Dmesg records as `<facility>: <priority>: [<time>]: <text>`). Lines are produced on
 * demand by index, so a log of any size costs no memory.
 */
import type { SimNode } from "./model.ts";
import { criContainers } from "./workloads.ts";

/** A log as a function of the line index. */
export interface SimLog {
  count: number;
  line(i: number): string;
}

const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);
const iso = (i: number) => new Date(T0 + i * 1_000).toISOString();
const klogTime = (i: number) => {
  const d = new Date(T0 + i * 1_000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${
    p(d.getUTCSeconds())
  }.${p(d.getUTCMilliseconds(), 3)}000`;
};

function cycle(count: number, templates: Array<(i: number) => string>): SimLog {
  return { count, line: (i) => templates[i % templates.length](i) };
}

/** The log of a Talos service (namespace system), or undefined when the node has no such log. */
export function serviceLog(node: SimNode, id: string): SimLog | undefined {
  const extra = node.extraLogs?.get(id);
  if (extra) return extra;
  if (id !== "kernel" && !node.services.some((s) => s.id === id)) return undefined;
  switch (id) {
    case "etcd":
      return cycle(400, [
        (i) =>
          `{"level":"info","ts":"${
            iso(i)
          }","caller":"etcdserver/server.go:1410","msg":"triggering snapshot","local-member-id":"${node.etcdMemberId}","local-member-applied-index":${
            184000 + i
          }}`,
        (i) =>
          `{"level":"warn","ts":"${
            iso(i)
          }","caller":"etcdserver/util.go:170","msg":"apply request took too long","took":"${
            120 + (i % 50)
          }ms","expected-duration":"100ms"}`,
      ]);
    case "kubelet":
      return cycle(600, [
        (i) => `I${klogTime(i)}    1200 kubelet.go:2486] "SyncLoop (PLEG): event for pod" pod="kube-system/kube-proxy"`,
        (i) =>
          `E${
            klogTime(i)
          }    1200 kubelet_node_status.go:548] "Error updating node status, will retry" err="Get \\"https://10.5.0.2:6443/api/v1/nodes/${node.hostname}\\": context deadline exceeded"`,
        // What a verbose kubelet prints while bootstrapping: the token must never reach the agent.
        (i) =>
          `I${
            klogTime(i)
          }    1200 bootstrap.go:101] "Using bootstrap kubeconfig" server="https://10.5.0.2:6443" token="abcdef.0123456789abcdef"`,
        (i) =>
          `I${
            klogTime(i)
          }    1200 round_trippers.go:553] "Request" verb="GET" url="https://10.5.0.2:6443/api" headers="Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06bm9kZSJ9.c2lnbmF0dXJlLXNpbQ"`,
      ]);
    case "kernel":
      return dmesgLog(node);
    default:
      return cycle(200, [
        (i) => `${iso(i).replace("T", " ").replace(/\..*$/, "")} ${id}: serving on ${node.ip}, request ${i} ok`,
        (i) => `${iso(i).replace("T", " ").replace(/\..*$/, "")} ${id}: health check passed`,
      ]);
  }
}

/** CRI log of a Kubernetes container (`<k8s-ns>/<pod>:<container>`), or undefined when there is none. */
export function containerLog(node: SimNode, id: string): SimLog | undefined {
  const extra = node.extraLogs?.get(id);
  if (extra) return extra;
  const c = criContainers(node).find((c) => c.id === id || (c.name && id.startsWith(`${c.id}:`)));
  if (!c?.name) return undefined;
  return cycle(300, [
    (i) =>
      `${iso(i).replace("Z", "000000Z")} stderr F I${klogTime(i)}       1 ${c.name}.go:${
        100 + (i % 90)
      }] "Reconciled" count=${i}`,
    (i) => `${iso(i).replace("Z", "000000Z")} stdout F ${c.name}: watch channel refreshed`,
  ]);
}

const KERNEL: Array<[string, string, string]> = [
  ["kern", "notice", "Linux version 6.12.57-talos (@buildkitsandbox) (gcc (GCC) 14.2.0) #1 SMP"],
  ["kern", "info", "Command line: talos.platform=metal console=ttyS0 init_on_alloc=1 slab_nomerge"],
  ["kern", "info", "Memory: 3976524K/4193784K available (22528K kernel code)"],
  ["kern", "info", "virtio_net virtio1 eth0: renamed from ens3"],
  ["kern", "warning", "EXT4-fs (sda6): warning: mounting unchecked fs"],
  ["kern", "info", "IPVS: Registered protocols (TCP, UDP, SCTP, AH, ESP)"],
  ["kern", "notice", "sd 2:0:0:0: [sdb] Attached SCSI disk"],
  ["kern", "info", "cni0: port 1(veth3a1b2c3d) entered forwarding state"],
];

/**
 * The kernel ring buffer: `<facility>: <priority padded to 7>: [<RFC3339Nano>]: <text>`. A healthy
 * node's records (benign warnings included), then whatever lib/sim/scenarios.ts planted.
 */
export function dmesgLog(node: SimNode): SimLog {
  const base = 480;
  const planted = node.planted?.kernel ?? [];
  return {
    count: base + planted.length,
    line: (i) => {
      const [fac, prio, text] = i < base ? KERNEL[i % KERNEL.length] : planted[i - base];
      const t = new Date(T0 + i * 250).toISOString().replace("Z", "123456Z");
      return `${fac}: ${prio.padStart(7)}: [${t}]: ${text}`;
    },
  };
}

/** A log of about `bytes` bytes of generic lines, for benchmarks and bound tests. */
export function bigLog(bytes: number): SimLog {
  const sample = (i: number) =>
    `${iso(i % 86400)} app: processed batch ${String(i).padStart(9, "0")} rows=4096 status=ok pad=${"x".repeat(40)}`;
  const len = Buffer.byteLength(sample(0)) + 1;
  return { count: Math.ceil(bytes / len), line: sample };
}
