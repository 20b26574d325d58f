/**
 * @module Node statistics as small derived numbers: memory (the API reports
 * KiB, copied from /proc/meminfo), load, uptime and CPU use from SystemStat, filesystem use from
 * Mounts. Shared by talos_stats, talos_mounts and talos_node_summary.
 */
import type { TalosApi } from "./api.ts";
import type { CallOptions } from "./client.ts";
import type { CPUStat__Output } from "./proto_types/machine/CPUStat.ts";
import type { MemInfo__Output } from "./proto_types/machine/MemInfo.ts";
import type { TalosSession } from "./session.ts";

const MiB_PER_KiB = 1 / 1024;
const GiB = 1024 ** 3;
/** A numeric field that may arrive as a string (uint64) or be absent, as a number (0 when absent). */
export const num = (v: unknown): number => Number(v ?? 0) || 0;
const round1 = (n: number) => Math.round(n * 10) / 10;

interface Call {
  session: TalosSession;
  node: string;
  signal?: AbortSignal;
}

/** Parameterless MachineService calls that answer with one message per node. */
type StatRpc = "Memory" | "LoadAvg" | "SystemStat" | "Mounts" | "DiskStats" | "NetworkDeviceStats";
type FirstMessage<R extends StatRpc> = TalosApi["machine"][R] extends
  (req: never, opts?: CallOptions) => Promise<{ messages: Array<infer M> }> ? M : never;

/** The first (single-node) message of a parameterless MachineService call such as Memory or DiskStats. */
export async function first<R extends StatRpc>(
  { session, node, signal }: Call,
  rpc: R,
): Promise<FirstMessage<R> | undefined> {
  // One signature for the union of methods: all take Empty and answer { messages }.
  const call = session.api.machine[rpc] as (req: object, opts: CallOptions) => Promise<{ messages: unknown[] }>;
  const res = await call({}, { node, signal });
  return res.messages?.[0] as FirstMessage<R> | undefined;
}

export interface MemoryFigures {
  total_mib: number;
  available_mib: number;
  used_pct: number;
  swap_used_mib?: number;
}

export async function memory(c: Call): Promise<MemoryFigures> {
  const m: Partial<MemInfo__Output> = (await first(c, "Memory"))?.meminfo ?? {};
  const total = num(m.memtotal);
  const available = num(m.memavailable);
  const swapUsed = num(m.swaptotal) - num(m.swapfree);
  return {
    total_mib: Math.round(total * MiB_PER_KiB),
    available_mib: Math.round(available * MiB_PER_KiB),
    used_pct: total ? round1((1 - available / total) * 100) : 0,
    ...(swapUsed > 0 ? { swap_used_mib: Math.round(swapUsed * MiB_PER_KiB) } : {}),
  };
}

export async function loadAvg(c: Call): Promise<[number, number, number]> {
  const l = await first(c, "LoadAvg");
  return [l?.load1, l?.load5, l?.load15].map((x) => Math.round(num(x) * 100) / 100) as [number, number, number];
}

export interface SystemFigures {
  boot_time: string;
  uptime_s: number;
  cpus: number;
  /** Share of CPU time not idle since boot (one sample; load is the better "now" signal). */
  cpu_busy_pct_since_boot: number;
  iowait_pct_since_boot: number;
  procs_running: number;
  procs_blocked: number;
}

export async function systemStat(c: Call, now = Date.now()): Promise<SystemFigures> {
  const s = await first(c, "SystemStat");
  const t: Partial<CPUStat__Output> = s?.cpu_total ?? {};
  const total = Object.values(t).reduce((a: number, b) => a + num(b), 0) - num(t.guest) - num(t.guest_nice);
  const idle = num(t.idle) + num(t.iowait);
  const boot = num(s?.boot_time);
  return {
    boot_time: new Date(boot * 1000).toISOString(),
    uptime_s: Math.max(0, Math.round(now / 1000 - boot)),
    cpus: s?.cpu?.length ?? 0,
    cpu_busy_pct_since_boot: total ? round1((1 - idle / total) * 100) : 0,
    iowait_pct_since_boot: total ? round1((num(t.iowait) / total) * 100) : 0,
    procs_running: num(s?.process_running),
    procs_blocked: num(s?.process_blocked),
  };
}

export interface MountFigures {
  filesystem: string;
  mounted_on: string;
  size_gib: number;
  used_pct: number;
  /** Other mount points of the same filesystem (Talos bind-mounts EPHEMERAL in several places). */
  also?: string[];
}

/** Every mount with a size, one entry per filesystem (bind mounts folded into `also`). */
export async function mounts(c: Call, all = false): Promise<MountFigures[]> {
  const stats = (await first(c, "Mounts"))?.stats ?? [];
  const byFs = new Map<string, MountFigures>();
  const out: MountFigures[] = [];
  for (const m of stats) {
    const size = num(m.size);
    if (!size) continue;
    const block = m.filesystem.startsWith("/dev/");
    if (!all && !block) continue; // tmpfs, overlay, proc...: noise for disk questions
    const used = round1((1 - num(m.available) / size) * 100);
    const key = block ? m.filesystem : `${m.filesystem}@${m.mounted_on}`;
    const seen = byFs.get(key);
    if (seen) {
      // Keep the shortest mount point as the name: /var rather than /var/lib/kubelet.
      if (m.mounted_on.length < seen.mounted_on.length) {
        (seen.also ??= []).push(seen.mounted_on);
        seen.mounted_on = m.mounted_on;
      } else (seen.also ??= []).push(m.mounted_on);
      continue;
    }
    const f: MountFigures = {
      filesystem: m.filesystem,
      mounted_on: m.mounted_on,
      size_gib: Math.round((size / GiB) * 100) / 100,
      used_pct: used,
    };
    byFs.set(key, f);
    out.push(f);
  }
  return out;
}
