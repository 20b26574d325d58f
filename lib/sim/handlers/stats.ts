/**
 * @module Simulated node statistics: Memory (KiB, as /proc/meminfo), LoadAvg,
 * SystemStat, CPUInfo, Mounts, DiskStats, NetworkDeviceStats, Netstat and the
 * legacy storage Disks call, derived from each node's role and `usage`.
 */
import type { SimNode, SimUsage } from "../model.ts";
import { type HandlerTable, one } from "./types.ts";

const M = "/machine.MachineService/";
const GiB = 1024 ** 3;

/**
 * Default figures of a node: the first node's are fixed, each further node's differ by a fixed
 * step, so every node reports its own plausible load, memory, disk use and uptime, the same on
 * every run.
 */
function defaultUsage(node: SimNode): SimUsage {
  const i = Math.max(0, Number(node.ip.split(".").at(-1)) - 2) % 8;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    load1: r2(0.42 + 0.37 * i),
    memUsed: r2(0.38 + 0.07 * i),
    varUsed: r2(0.27 + 0.06 * i),
    uptimeSeconds: 3 * 86_400 + 5_400 - 4_000 * i,
  };
}

/** The node's usage figures, defaults filled in. */
export function usageOf(node: SimNode): SimUsage {
  return { ...defaultUsage(node), ...node.usage };
}

/** CPUs of a simulated node: 4 on control planes, 8 on workers. */
export const cpusOf = (node: SimNode) => (node.role === "controlplane" ? 4 : 8);
/** Memory of a simulated node in KiB: 8 GiB on control planes, 16 on workers. */
export const memTotalKiB = (node: SimNode) => (node.role === "controlplane" ? 8 : 16) * 1024 * 1024;

/** /proc/mounts as Talos shows it: EPHEMERAL bind-mounted in several places, STATE, overlays, tmpfs. */
function simMounts(node: SimNode) {
  const u = usageOf(node);
  const varSize = 90 * GiB;
  const ephemeral = (on: string) => ({
    filesystem: "/dev/sda6",
    size: String(varSize),
    available: String(Math.round(varSize * (1 - u.varUsed))),
    mounted_on: on,
  });
  const stateSize = 100 << 20;
  const planted = node.planted ?? {};
  return [
    // The root filesystem is the read-only squashfs image: statfs says it is full, always.
    { filesystem: "/dev/loop0", size: String(87 << 20), available: "0", mounted_on: "/" },
    {
      filesystem: "devtmpfs",
      size: String(memTotalKiB(node) * 512),
      available: String(memTotalKiB(node) * 512),
      mounted_on: "/dev",
    },
    {
      filesystem: "tmpfs",
      size: String(memTotalKiB(node) * 512),
      available: String(memTotalKiB(node) * 500),
      mounted_on: "/run",
    },
    {
      filesystem: "/dev/sda5",
      size: String(stateSize),
      available: String(Math.round(stateSize * (1 - (planted.stateUsed ?? 0.07)))),
      mounted_on: "/system/state",
    },
    ephemeral("/var"),
    ephemeral("/var/lib/kubelet"),
    ephemeral("/etc/cni"),
    {
      filesystem: "overlay",
      size: String(varSize),
      available: String(Math.round(varSize * (1 - u.varUsed))),
      mounted_on: "/usr/libexec/kubernetes",
    },
    ...Object.entries(planted.userVolumes ?? {}).map(([name, used], i) => ({
      filesystem: `/dev/sdc${i + 1}`,
      size: String(20 * GiB),
      available: String(Math.round(20 * GiB * (1 - used))),
      mounted_on: `/var/mnt/${name}`,
    })),
  ];
}

function netdev(name: string, rx: number, tx: number, errors = 0) {
  return {
    name,
    rx_bytes: String(rx),
    rx_packets: String(Math.round(rx / 900)),
    rx_errors: String(errors),
    rx_dropped: "0",
    tx_bytes: String(tx),
    tx_packets: String(Math.round(tx / 900)),
    tx_errors: "0",
    tx_dropped: "0",
  };
}

function diskstat(name: string, reads: number, writes: number) {
  return {
    name,
    read_completed: String(reads),
    read_sectors: String(reads * 16),
    read_time_ms: String(reads / 4),
    write_completed: String(writes),
    write_sectors: String(writes * 24),
    write_time_ms: String(writes / 2),
    io_in_progress: "0",
    io_time_ms: String((reads + writes) / 5),
  };
}

const cpuStat = (total: number, busy: number) => ({
  user: total * busy * 0.7,
  nice: 0,
  system: total * busy * 0.3,
  idle: total * (1 - busy) * 0.98,
  iowait: total * (1 - busy) * 0.02,
  irq: 0,
  soft_irq: 0,
  steal: 0,
  guest: 0,
  guest_nice: 0,
});

export const statsHandlers: HandlerTable = {
  unary: {
    [`${M}Memory`]: ({ node }) => {
      const total = memTotalKiB(node);
      const available = Math.round(total * (1 - usageOf(node).memUsed));
      return one({
        meminfo: {
          memtotal: String(total),
          memfree: String(Math.round(available * 0.6)),
          memavailable: String(available),
          buffers: String(Math.round(total * 0.01)),
          cached: String(Math.round(available * 0.35)),
          swaptotal: "0",
          swapfree: "0",
          hugepagesize: "2048",
        },
      });
    },
    [`${M}LoadAvg`]: ({ node }) => {
      const l = usageOf(node).load1;
      return one({ load1: l, load5: l * 0.9, load15: l * 0.8 });
    },
    [`${M}SystemStat`]: ({ node }) => {
      const u = usageOf(node);
      const cpus = cpusOf(node);
      const busy = Math.min(0.95, u.load1 / cpus);
      return one({
        boot_time: String(Math.floor(Date.now() / 1000) - u.uptimeSeconds),
        cpu_total: cpuStat(u.uptimeSeconds * cpus, busy),
        cpu: Array.from({ length: cpus }, () => cpuStat(u.uptimeSeconds, busy)),
        irq_total: "123456789",
        context_switches: "987654321",
        process_created: "54321",
        process_running: String(Math.max(1, Math.round(u.load1))),
        process_blocked: "0",
      });
    },
    [`${M}CPUInfo`]: ({ node }) =>
      one({
        cpu_info: Array.from({ length: cpusOf(node) }, (_, i) => ({
          processor: i,
          vendor_id: "AuthenticAMD",
          model_name: "AMD EPYC 7763 64-Core Processor",
          cpu_mhz: 2445.4,
          cpu_cores: cpusOf(node),
          flags: ["fpu", "vme", "sse2", "avx2"],
        })),
      }),
    [`${M}Mounts`]: ({ node }) => one({ stats: simMounts(node) }),
    [`${M}DiskStats`]: () =>
      one({
        total: diskstat("", 260_000, 1_900_000),
        devices: [
          diskstat("sda", 250_000, 1_800_000),
          diskstat("sda5", 1_000, 20_000),
          diskstat("sda6", 240_000, 1_780_000),
          diskstat("loop0", 9_000, 0),
        ],
      }),
    [`${M}NetworkDeviceStats`]: () =>
      one({
        total: netdev("", 9_100_000_000, 4_300_000_000, 3),
        devices: [netdev("lo", 1_100_000_000, 1_100_000_000), netdev("eth0", 8_000_000_000, 3_200_000_000, 3)],
      }),
    [`${M}Netstat`]: ({ node }, req) => {
      const l4 = req.l4proto ?? {};
      const records = [
        {
          l4proto: "tcp",
          localip: "0.0.0.0",
          localport: 50000,
          remoteip: "0.0.0.0",
          remoteport: 0,
          state: "LISTEN",
          process: { pid: 1, name: "apid" },
        },
        {
          l4proto: "tcp",
          localip: node.ip,
          localport: 50000,
          remoteip: "10.5.0.1",
          remoteport: 41234,
          state: "ESTABLISHED",
          process: { pid: 1, name: "apid" },
        },
        {
          l4proto: "tcp",
          localip: "127.0.0.1",
          localport: 10248,
          remoteip: "0.0.0.0",
          remoteport: 0,
          state: "LISTEN",
          process: { pid: 2100, name: "kubelet" },
        },
        {
          l4proto: "tcp6",
          localip: "::",
          localport: 10250,
          remoteip: "::",
          remoteport: 0,
          state: "LISTEN",
          process: { pid: 2100, name: "kubelet" },
        },
        {
          l4proto: "udp",
          localip: "0.0.0.0",
          localport: 123,
          remoteip: "0.0.0.0",
          remoteport: 0,
          state: "CLOSE",
          process: { pid: 1, name: "machined" },
        },
        ...(node.role === "controlplane"
          ? [
            {
              l4proto: "tcp",
              localip: node.ip,
              localport: 2379,
              remoteip: "0.0.0.0",
              remoteport: 0,
              state: "LISTEN",
              process: { pid: 1800, name: "etcd" },
            },
            {
              l4proto: "tcp",
              localip: node.ip,
              localport: 2380,
              remoteip: "10.5.0.3",
              remoteport: 52011,
              state: "ESTABLISHED",
              process: { pid: 1800, name: "etcd" },
            },
            {
              l4proto: "tcp6",
              localip: "::",
              localport: 6443,
              remoteip: "::",
              remoteport: 0,
              state: "LISTEN",
              process: { pid: 2300, name: "kube-apiserver" },
            },
          ]
          : []),
      ];
      const filter = req.filter ?? "ALL";
      // As Talos: only the protocols asked for (none set = nothing), host namespace only when asked.
      const picked = !req.netns?.hostnetwork && !req.netns?.allnetns
        ? []
        : records.filter((r) =>
          l4[r.l4proto] === true &&
          (filter === "ALL" || (filter === "LISTENING" ? r.state === "LISTEN" : r.remoteport !== 0))
        );
      return one({
        connectrecord: picked.map((r) => ({
          ...r,
          txqueue: "0",
          rxqueue: "0",
          inode: "0",
          process: req.feature?.pid ? r.process : undefined,
        })),
      });
    },
    ["/storage.StorageService/Disks"]: () =>
      one({
        disks: [{
          size: String(100 * GiB),
          model: "QEMU HARDDISK",
          device_name: "/dev/sda",
          name: "sda",
          serial: "QM00001",
          type: "HDD",
          bus_path: "/pci0000:00/0000:00:07.0/virtio4",
          system_disk: true,
          subsystem: "/sys/class/block",
          readonly: false,
        }],
      }),
  },
  stream: {},
};
