/**
 * @module The rules that turn what a node reports into warnings an SRE would
 * raise: each names the fact, the figure and where it was read, and stays
 * silent on a healthy node. Pure functions over decoded API data; the reads
 * are in talos_node_summary. Thresholds are named here, each with why.
 */
import { xidTime } from "./xid.ts";
import { memberHex } from "./etcd_health.ts";
import type { EventMsg } from "./events.ts";
import type { KernelFinding } from "./kernel_log.ts";
import type { MemoryFigures, MountFigures } from "./node_stats.ts";
import { num } from "./node_stats.ts";

/** A writable volume at or above this share full is a warning: kubelet evicts pods below 10% free nodefs. */
export const VOLUME_FULL_PCT = 90;
/** Available memory at or below this share of the total: reclaim stalls the node and the OOM killer is near. */
export const MEMORY_AVAILABLE_MIN_PCT = 5;
/** etcd's default --quota-backend-bytes (Talos keeps it unless extraArgs change it): at it etcd raises NOSPACE. */
export const ETCD_QUOTA_BYTES = 2 * 1024 ** 3;
/** A database at or above this share of the quota gets a warning while there is time to defragment. */
export const ETCD_QUOTA_WARN = 0.8;
/** In use at or below this share of the file: most of it is free pages that only a defragmentation returns. */
export const ETCD_IN_USE_MAX = 0.5;
/** Below this file size fragmentation costs nothing worth a warning (a fresh cluster's database is ~30 MiB). */
export const ETCD_FRAGMENTED_MIN_BYTES = 100 * 1024 ** 2;
/** This many failures of one service within the events window is a restart loop, not a blip. */
export const RESTART_LOOP_FAILURES = 3;
/** A 5-minute load above this many times the CPUs: work has been waiting for minutes, not a spike. */
export const LOAD_PER_CPU = 2;
/** The talosconfig client certificate expiring within this many days (talosctl cannot renew an expired one). */
export const CERT_WARN_DAYS = 7;

/** Service states that are fine on a running node (Skipped: not needed with this config). */
const FINE_STATES = new Set(["Running", "Finished", "Skipped"]);

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const size = (b: number) => b >= GiB ? `${Math.round((b / GiB) * 10) / 10} GiB` : `${Math.round(b / MiB)} MiB`;
const quote = (s: string) => JSON.stringify(s.length > 160 ? `${s.slice(0, 160)}…` : s);

export interface ServiceInfo {
  id: string;
  state: string;
  health?: { unknown?: boolean; healthy?: boolean; last_message?: string } | null;
}

/** Whether a service is as it should be: running or done (Finished, Skipped), and not failing its health check. */
export function serviceFine(s: ServiceInfo): boolean {
  return FINE_STATES.has(s.state) && !(s.health && !s.health.unknown && !s.health.healthy);
}

/** One service's trouble: now (ServiceList) and its failures in the events window. */
export interface ServiceTrouble {
  id: string;
  /** e.g. `Running, unhealthy: "connection refused"`; absent when the service is fine now. */
  now?: string;
  /** e.g. `failed 6 times in 7 min, last: "exit code 1"`; absent below RESTART_LOOP_FAILURES. */
  loop?: string;
}

/** Failures per service in the events window, with the first failure's time and the last message. */
function failures(events: readonly EventMsg[]) {
  const by = new Map<string, { count: number; first: number; last: string }>();
  for (const e of events) {
    const d = e.data as Record<string, any> | null;
    if (!d || !String(d["@type"] ?? "").endsWith("ServiceStateEvent") || d.action !== "FAILED") continue;
    const at = e.id ? xidTime(e.id) ?? 0 : 0;
    const f = by.get(d.service);
    if (f) [f.count, f.last] = [f.count + 1, String(d.message ?? "")];
    else by.set(d.service, { count: 1, first: at, last: String(d.message ?? "") });
  }
  return by;
}

/** Services unhealthy or failing now, and services in a restart loop, by id. */
export function serviceTroubles(
  services: readonly ServiceInfo[],
  events: readonly EventMsg[] | undefined,
  nowS: number,
): Map<string, ServiceTrouble> {
  const out = new Map<string, ServiceTrouble>();
  for (const s of services) {
    if (serviceFine(s)) continue;
    const unhealthy = s.health && !s.health.unknown && !s.health.healthy;
    const msg = s.health?.last_message ? `: ${quote(s.health.last_message)}` : "";
    out.set(s.id, { id: s.id, now: `${s.state}${unhealthy ? ", unhealthy" : ""}${msg}` });
  }
  for (const [id, f] of failures(events ?? [])) {
    if (f.count < RESTART_LOOP_FAILURES) continue;
    // The first failure's time comes from its event id (an xid); without one, the window is all we know.
    const span = f.first ? `in ${Math.max(1, Math.round((nowS - f.first) / 60))} min` : "recently";
    const t = out.get(id) ?? { id };
    t.loop = `failed ${f.count} times ${span}${f.last ? `, last: ${quote(f.last)}` : ""}`;
    out.set(id, t);
  }
  return out;
}

/** The warning of a troubled service other than etcd (etcd's is part of the member's). */
export function serviceWarning(t: ServiceTrouble, eventWindowMin: number): string {
  const parts = [
    ...(t.now ? [`${t.now} (ServiceList)`] : []),
    ...(t.loop ? [`${t.loop} (events of the last ${eventWindowMin} min)${t.now ? "" : "; running again now"}`] : []),
  ];
  return `service ${t.id}: ${parts.join("; ")}`;
}

export interface EtcdMemberStatus {
  db_size?: string | number;
  db_size_in_use?: string | number;
  leader?: string | number;
  member_id?: string | number;
  errors?: string[];
}

/** Alarm strings etcd puts among a member's status errors; the summary reports alarms once, cluster-wide. */
const ALARM_ERROR = /\balarm:\s*(NOSPACE|CORRUPT)\b/;

/**
 * The local etcd member's warnings: one for its health (service, leader, errors) and one for its
 * database (quota, fragmentation). `service` is the etcd service's trouble, if any.
 */
export function etcdWarnings(
  status: EtcdMemberStatus | undefined,
  service: ServiceTrouble | undefined,
  eventWindowMin: number,
): string[] {
  const out: string[] = [];
  const health: string[] = [];
  if (service) health.push(serviceWarning(service, eventWindowMin));
  if (status) {
    const noLeader = !num(status.leader);
    if (noLeader) health.push("no leader (EtcdStatus leader=0): the member serves no writes");
    const errors = (status.errors ?? []).filter((e) => !ALARM_ERROR.test(e) && !(noLeader && /no leader/.test(e)));
    if (errors.length) health.push(`errors ${errors.map(quote).join(", ")} (EtcdStatus)`);
  }
  if (health.length) out.push(`etcd member unhealthy: ${health.join("; ")}`);
  if (!status) return out;
  const db = num(status.db_size);
  const inUse = num(status.db_size_in_use);
  const usedPct = Math.round((inUse / (db || 1)) * 100);
  const fragmented = db >= ETCD_FRAGMENTED_MIN_BYTES && inUse <= db * ETCD_IN_USE_MAX;
  const figures = `database ${size(db)}, ${size(inUse)} (${usedPct}%) in use (EtcdStatus)`;
  if (db >= ETCD_QUOTA_BYTES * ETCD_QUOTA_WARN) {
    out.push(
      `etcd ${figures}: ${Math.round((db / ETCD_QUOTA_BYTES) * 100)}% of the ${
        size(ETCD_QUOTA_BYTES)
      } default quota; at the quota etcd raises NOSPACE and refuses writes: ${
        fragmented ? "mostly fragmentation, defragment" : "compact, then defragment"
      } (talosctl etcd defrag, one member at a time)`,
    );
  } else if (fragmented) {
    out.push(
      `etcd ${figures}: mostly fragmentation; defragment to reclaim it (talosctl etcd defrag, one member at a time)`,
    );
  }
  return out;
}

/** What each etcd alarm blocks and what clears it. */
const ALARM_MEANING: Record<string, string> = {
  NOSPACE: "the database reached its quota; etcd accepts only reads and deletes, so Kubernetes cannot write. " +
    "Clear: compact and defragment every member (talosctl etcd defrag), then talosctl etcd alarm disarm",
  CORRUPT: "this member's data differs from the others; etcd refuses requests until it is cleared. " +
    "Clear: replace the member (talosctl etcd remove-member, wipe and rejoin it, or restore a snapshot), " +
    "then talosctl etcd alarm disarm",
};

/** Cluster-wide warnings for raised etcd alarms, once each; `nodeOf` names a member id's node. */
export function alarmWarnings(
  alarms: ReadonlyArray<{ member_id?: string | number; alarm?: string }>,
  nodeOf: (memberId: string) => string | undefined,
): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const a of alarms) {
    const alarm = String(a.alarm ?? "");
    if (!alarm || alarm === "NONE") continue;
    const id = String(a.member_id ?? "0");
    if (seen.has(`${id}/${alarm}`)) continue;
    seen.add(`${id}/${alarm}`);
    const hex = memberHex(id);
    const node = nodeOf(id);
    out.push(
      `etcd alarm ${alarm} raised for member ${hex}${node ? ` of node ${node}` : ""}, per EtcdAlarmList: ${
        ALARM_MEANING[alarm] ?? "see talosctl etcd alarm list"
      }`,
    );
  }
  return out;
}

/**
 * The writable volumes worth watching, named as Talos names them: EPHEMERAL (/var), STATE, user
 * volumes (/var/mnt/<name>). The root is a read-only squashfs image (statfs says it is always
 * full), loop and optical devices are images too (system extensions, an ISO), and pseudo and
 * overlay filesystems are not block devices (mounts() leaves them out).
 */
export function watchedVolumes(mounts: readonly MountFigures[]): Array<MountFigures & { volume: string }> {
  const out: Array<MountFigures & { volume: string }> = [];
  for (const m of mounts) {
    if (/^\/dev\/(loop|sr)\d/.test(m.filesystem)) continue;
    const points = [m.mounted_on, ...(m.also ?? [])];
    const user = points.map((p) => /^\/var\/mnt\/([^/]+)$/.exec(p)?.[1]).find(Boolean);
    const volume = points.includes("/var")
      ? "EPHEMERAL"
      : points.includes("/system/state")
      ? "STATE"
      : user
      ? `user volume ${user}`
      : undefined;
    if (volume) out.push({ ...m, volume });
  }
  return out;
}

export function volumeWarnings(mounts: readonly MountFigures[]): string[] {
  return watchedVolumes(mounts)
    .filter((m) => m.used_pct >= VOLUME_FULL_PCT)
    .map((m) => `${m.volume} (${m.mounted_on}) ${m.used_pct}% full of ${m.size_gib} GiB (Mounts)`);
}

export function memoryWarning(m: MemoryFigures): string | undefined {
  if (!m.total_mib) return undefined;
  const pct = Math.round((m.available_mib / m.total_mib) * 1000) / 10;
  if (pct > MEMORY_AVAILABLE_MIN_PCT) return undefined;
  return `memory pressure: ${pct}% available (${m.available_mib} of ${m.total_mib} MiB, MemAvailable)`;
}

export function loadWarning(load: readonly number[], cpus: number): string | undefined {
  if (!cpus || load[1] <= cpus * LOAD_PER_CPU) return undefined;
  return `load ${load[1]} over 5 min on ${cpus} CPUs (LoadAvg): work has been waiting for CPU or I/O`;
}

/** One warning per kind and subject of kernel trouble, with the evidence. */
export function kernelWarnings(findings: readonly KernelFinding[], records: number): string[] {
  const where = `(kernel log, newest ${records} records)`;
  return findings.map((f) => {
    const times = f.count === 1 ? "once" : `${f.count} times`;
    if (f.kind === "oom") return `OOM kill: the kernel killed ${f.subject} ${times} ${where}: ${quote(f.last)}`;
    if (f.kind === "io") return `disk I/O errors on ${f.subject}, ${times} ${where}: ${quote(f.last)}`;
    return `filesystem errors on ${f.subject}, ${times} ${where}: ${quote(f.last)}`;
  });
}

export function timeWarning(spec: { synced?: boolean; syncDisabled?: boolean } | undefined): string | undefined {
  if (!spec || spec.synced !== false || spec.syncDisabled) return undefined;
  return "time not synchronised (TimeStatus synced=false): TLS and etcd need a correct clock; " +
    "check that the NTP servers answer (TimeServerStatuses, talos_logs machined)";
}

interface LinkSpec {
  type?: string;
  kind?: string;
  operationalState?: string;
  linkState?: boolean;
}
interface RouteSpec {
  dst?: string;
  table?: string | number;
  outLinkName?: string;
}

/** Whether a default route (table main, any family) is among `routes`. */
export const hasDefaultRoute = (routes: ReadonlyArray<{ spec: RouteSpec }>) => routes.some((r) => isDefault(r.spec));

const isDefault = (r: RouteSpec) =>
  ["", "0.0.0.0/0", "::/0", "default"].includes(String(r.dst ?? "")) &&
  [undefined, "", "main", 254, "254"].includes(r.table as string);

/**
 * The primary link down, or no default route. The primary link carries the default route, else
 * the node's global addresses, else it is the only physical link; other links may well be unused.
 */
export function networkWarnings(
  links: ReadonlyArray<{ id: string; spec: LinkSpec }>,
  routes: ReadonlyArray<{ spec: RouteSpec }>,
  addressLinks: readonly string[],
): string[] {
  const defaults = routes.filter((r) => isDefault(r.spec));
  const physical = links.filter((l) => l.spec.type === "ether" && !l.spec.kind);
  const primary = defaults.map((r) => r.spec.outLinkName).find(Boolean) ??
    addressLinks.find((n) => links.some((l) => l.id === n)) ??
    (physical.length === 1 ? physical[0].id : undefined);
  const link = links.find((l) => l.id === primary);
  if (
    link &&
    (link.spec.linkState === false ||
      ["down", "lowerlayerdown", "notpresent"].includes(String(link.spec.operationalState)))
  ) {
    const why = defaults.length ? "carries the default route" : "carries the node's address";
    return [
      `network: primary link ${link.id} (${why}) is down (LinkStatus operationalState=${link.spec.operationalState}, carrier ${
        link.spec.linkState ? "on" : "off"
      })`,
    ];
  }
  if (!defaults.length) {
    return [
      "network: no default route (RouteStatuses: none in table main): only directly connected networks are reachable",
    ];
  }
  return [];
}

/** What other warnings already explain, by MachineStatus condition name. */
export interface Explained {
  time: boolean;
  services: boolean;
  network: boolean;
  nodeReady: boolean;
}

/**
 * The machine not running or not ready, with the unmet conditions other warnings do not already
 * explain (Talos holds readiness back for time, services and network; those are named on their own).
 */
export function machineWarning(
  spec: { stage?: string; status?: { ready?: boolean; unmetConditions?: Array<{ name: string; reason: string }> } },
  explained: Explained,
): string | undefined {
  const stage = spec.stage ?? "";
  const unmet = (spec.status?.unmetConditions ?? []).filter((c) => !explained[c.name as keyof Explained]);
  const conditions = unmet.length ? `: unmet ${unmet.map((c) => `${c.name} (${c.reason})`).join(", ")}` : "";
  if (stage && stage !== "running") return `machine stage ${stage}, not running${conditions} (MachineStatus)`;
  if (spec.status?.ready === false && (unmet.length || !(spec.status.unmetConditions ?? []).length)) {
    return `machine not ready${conditions} (MachineStatus)`;
  }
  return undefined;
}

/** Nodes whose Talos version differs from most of the others, cluster-wide; one warning or none. */
export function skewWarning(versions: ReadonlyArray<{ node: string; version: string }>): string | undefined {
  const groups = new Map<string, string[]>();
  for (const v of versions) groups.set(v.version, [...(groups.get(v.version) ?? []), v.node]);
  if (groups.size < 2) return undefined;
  const [main, mainNodes] = [...groups].sort((a, b) => b[1].length - a[1].length)[0];
  const odd = [...groups].filter(([v]) => v !== main).map(([v, nodes]) =>
    `${nodes.join(", ")} ${nodes.length > 1 ? "run" : "runs"} ${v}`
  );
  return `Talos version skew (Version): ${odd.join("; ")}; the other ${mainNodes.length} ${
    mainNodes.length === 1 ? "node runs" : "nodes run"
  } ${main}. Upgrade the odd ones, one minor version at a time (talos_upgrade_plan)`;
}

/** The talosconfig client certificate expired or expiring within CERT_WARN_DAYS. */
export function certWarning(context: string, notAfter: Date, now = Date.now()): string | undefined {
  const days = (notAfter.getTime() - now) / 86_400_000;
  const at = notAfter.toISOString().replace(/\.\d+Z$/, "Z");
  if (days < 0) return `talosconfig: the client certificate of context ${context} expired at ${at}`;
  if (days > CERT_WARN_DAYS) return undefined;
  const left = days < 1 ? `${Math.max(1, Math.round(days * 24))} h` : `${Math.floor(days)} days`;
  return `talosconfig: the client certificate of context ${context} expires in ${left} (${at}); ` +
    "issue a new one before then (talosctl config new, with an os:admin certificate)";
}
