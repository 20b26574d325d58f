/**
 * @module The simulated nodes' /proc text files (meminfo, stat, uptime,
 * loadavg), with the same figures the stats RPCs report and the layout and
 * size of the kernel's, so reading them costs what it costs on a real node.
 */
import { cpusOf, memTotalKiB, usageOf } from "./handlers/stats.ts";
import type { SimNode } from "./model.ts";

/** /proc/meminfo's fields (Linux 6.x order); values not derived from usage are plausible constants. */
function meminfo(node: SimNode): string {
  const total = memTotalKiB(node);
  const available = Math.round(total * (1 - usageOf(node).memUsed));
  const kb: Array<[string, number]> = [
    ["MemTotal", total],
    ["MemFree", Math.round(available * 0.6)],
    ["MemAvailable", available],
    ["Buffers", Math.round(total * 0.01)],
    ["Cached", Math.round(available * 0.35)],
    ["SwapCached", 0],
    ["Active", Math.round(total * 0.3)],
    ["Inactive", Math.round(total * 0.2)],
    ["Active(anon)", Math.round(total * 0.22)],
    ["Inactive(anon)", 0],
    ["Active(file)", Math.round(total * 0.08)],
    ["Inactive(file)", Math.round(total * 0.2)],
    ["Unevictable", 0],
    ["Mlocked", 0],
    ["SwapTotal", 0],
    ["SwapFree", 0],
    ["Zswap", 0],
    ["Zswapped", 0],
    ["Dirty", 412],
    ["Writeback", 0],
    ["AnonPages", Math.round(total * 0.21)],
    ["Mapped", Math.round(total * 0.05)],
    ["Shmem", 24_576],
    ["KReclaimable", 180_224],
    ["Slab", 312_448],
    ["SReclaimable", 180_224],
    ["SUnreclaim", 132_224],
    ["KernelStack", 14_592],
    ["PageTables", 18_944],
    ["SecPageTables", 0],
    ["NFS_Unstable", 0],
    ["Bounce", 0],
    ["WritebackTmp", 0],
    ["CommitLimit", Math.round(total / 2)],
    ["Committed_AS", Math.round(total * 0.6)],
    ["VmallocTotal", 34_359_738_367],
    ["VmallocUsed", 41_216],
    ["VmallocChunk", 0],
    ["Percpu", 3_712],
    ["HardwareCorrupted", 0],
    ["AnonHugePages", 0],
    ["ShmemHugePages", 0],
    ["ShmemPmdMapped", 0],
    ["FileHugePages", 0],
    ["FilePmdMapped", 0],
    ["Unaccepted", 0],
  ];
  const lines = kb.map(([k, v]) => `${`${k}:`.padEnd(16)}${String(v).padStart(8)} kB`);
  for (const k of ["HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"]) {
    lines.push(`${`${k}:`.padEnd(16)}${"0".padStart(8)}`);
  }
  for (const [k, v] of [["Hugepagesize", 2048], ["Hugetlb", 0], ["DirectMap4k", 229_244], ["DirectMap2M", 8_159_232]]) {
    lines.push(`${`${k}:`.padEnd(16)}${String(v).padStart(8)} kB`);
  }
  return lines.join("\n") + "\n";
}

/** /proc/stat: per-CPU jiffies, the interrupt counters (one per IRQ, mostly 0), and the process counters. */
function stat(node: SimNode): string {
  const u = usageOf(node);
  const cpus = cpusOf(node);
  const busy = Math.min(0.95, u.load1 / cpus);
  const jiffies = (n: number) => {
    const t = u.uptimeSeconds * 100 * n;
    const v = [t * busy * 0.7, 0, t * busy * 0.3, t * (1 - busy) * 0.98, t * (1 - busy) * 0.02, 0, 0, 0, 0, 0];
    return v.map((x) => Math.round(x)).join(" ");
  };
  const irqs = Array.from({ length: 256 }, (_, i) => (i < 16 || i % 29 === 0 ? 1000 * (i + 7) : 0));
  return [
    `cpu  ${jiffies(cpus)}`,
    ...Array.from({ length: cpus }, (_, i) => `cpu${i} ${jiffies(1)}`),
    `intr 123456789 ${irqs.join(" ")}`,
    "ctxt 987654321",
    `btime ${Math.floor(Date.now() / 1000) - u.uptimeSeconds}`,
    "processes 54321",
    `procs_running ${Math.max(1, Math.round(u.load1))}`,
    "procs_blocked 0",
    "softirq 45678901 12 9876543 345 1234567 0 0 23456 8765432 0 3456789",
  ].join("\n") + "\n";
}

/** The /proc text files of `node`, by path. */
export function procFiles(node: SimNode): Array<[string, string]> {
  const u = usageOf(node);
  const cpus = cpusOf(node);
  return [
    ["/proc/loadavg", `${u.load1} ${+(u.load1 * 0.9).toFixed(2)} ${+(u.load1 * 0.8).toFixed(2)} 2/412 4242\n`],
    ["/proc/meminfo", meminfo(node)],
    ["/proc/stat", stat(node)],
    ["/proc/uptime", `${u.uptimeSeconds}.42 ${(u.uptimeSeconds * cpus * 0.9).toFixed(2)}\n`],
  ];
}
