/**
 * @module talos_node_summary: what is wrong, per node and cluster-wide, from
 * about twenty API calls made in parallel per node, each allowed to fail alone.
 * The reads are here; the rules that make warnings are in lib/talos/diagnosis.ts.
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { maskText } from "../secrets.ts";
import { getResource, listResources, type Resource } from "../talos/cosi.ts";
import {
  alarmWarnings,
  certWarning,
  etcdWarnings,
  type Explained,
  hasDefaultRoute,
  kernelWarnings,
  loadWarning,
  machineWarning,
  memoryWarning,
  networkWarnings,
  serviceTroubles,
  serviceWarning,
  skewWarning,
  timeWarning,
  volumeWarnings,
  watchedVolumes,
} from "../talos/diagnosis.ts";
import { kernelFindings, readKernelLog } from "../talos/kernel_log.ts";
import { loadAvg, memory, mounts, systemStat } from "../talos/node_stats.ts";
import type { TalosSession } from "../talos/session.ts";
import { CLUSTER_VIEW_URI } from "../apps/view.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { describeEvent, eventData, type EventMsg, readEvents } from "../talos/events.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";

/** At most this many warnings per node; a node with more says how many were left out. */
const MAX_WARNINGS = 12;
/** Events: the window looked at (restart loops are counted in it), how many one-off warnings are kept, and how long the stream may take. */
const EVENT_WINDOW_S = 600;
const MAX_EVENT_WARNINGS = 4;
const EVENTS_DEADLINE_MS = 2_000;
/** The replay comes as one burst after the first message; a short quiet ends it (the summary should be quick). */
const EVENTS_IDLE_MS = 150;
/** Kernel log: the newest records looked at (a busy node's last hours), and how long reading may take. */
const KERNEL_RECORDS = 1_000;
const KERNEL_DEADLINE_MS = 2_000;
/** Resources listed per type: a node has a handful of links and routes; more is not the primary one. */
const LIST_LIMIT = 64;

const parts = {
  role: v.string(),
  talos: v.string(),
  kubernetes: v.string(),
  stage: v.string(),
  ready: v.boolean(),
  k8s_node_ready: v.boolean(),
  uptime_s: v.number(),
  cpus: v.number(),
  cpu_busy_pct_since_boot: v.number(),
  load: v.pipe(v.array(v.number()), v.description("load1, load5, load15")),
  memory: v.object({ total_mib: v.number(), used_pct: v.number() }),
  disks: v.pipe(
    v.array(v.object({ volume: v.string(), mount: v.string(), size_gib: v.number(), used_pct: v.number() })),
    v.description("The writable volumes: EPHEMERAL, STATE, user volumes (never the read-only root image)."),
  ),
  warnings: v.pipe(
    v.array(v.string()),
    v.description("What is wrong on this node, each with its figure and where it was read; empty when healthy."),
  ),
  unavailable: v.pipe(
    v.record(v.string(), v.string()),
    v.description("Parts that could not be read, with why (e.g. a role the certificate lacks)."),
  ),
};

type Summary = Record<string, unknown> & { warnings: string[]; unavailable: Record<string, string> };

/** What one node said, besides its summary: facts the cluster-wide checks need. */
interface NodeFacts {
  node: string;
  version?: string;
  etcdMemberId?: string;
  alarms: Array<{ member_id?: string; alarm?: string }>;
}

const specs = <T>(r: { items: Resource[] } | undefined) =>
  (r?.items ?? []).map((i) => ({ id: i.id, spec: i.spec as T }));

/** A part failing for this reason means the node itself did not answer. */
const unreachable = (e: unknown) => e instanceof ToolError && ["UNAVAILABLE", "DEADLINE_EXCEEDED"].includes(e.code);

async function summarize(
  s: TalosSession,
  node: string,
  signal: AbortSignal,
  timeoutMs: number,
  facts: NodeFacts[],
): Promise<Summary> {
  const c = { session: s, node, signal };
  const get = (ns: string, type: string, id: string) => getResource(s, node, ns, type, id, signal);
  const list = (ns: string, type: string) => listResources(s, node, ns, type, LIST_LIMIT, signal);
  const role = get("config", "MachineTypes.config.talos.dev", "machine-type");
  // etcd lives on control planes only: asked once the role is known, in parallel with the rest.
  const onControlPlane = <T>(fn: () => Promise<T>) =>
    role.then((r) => (String(r.spec ?? "").trim() === "controlplane" ? fn() : undefined));
  const jobs = {
    version: s.api.machine.Version({}, { node, signal }),
    role,
    machine: get("runtime", "MachineStatuses.runtime.talos.dev", "machine"),
    kubelet: get("k8s", "KubeletSpecs.kubernetes.talos.dev", "kubelet"),
    k8sNode: listResources(s, node, "k8s", "NodeStatuses.kubernetes.talos.dev", 1, signal),
    diagnostics: listResources(s, node, "runtime", "Diagnostics.runtime.talos.dev", MAX_WARNINGS, signal),
    time: get("runtime", "TimeStatuses.v1alpha1.talos.dev", "node"),
    links: list("network", "LinkStatuses.net.talos.dev"),
    routes: list("network", "RouteStatuses.net.talos.dev"),
    system: systemStat(c),
    memory: memory(c),
    load: loadAvg(c),
    mounts: mounts(c),
    services: s.api.machine.ServiceList({}, { node, signal }),
    etcd: onControlPlane(() => s.api.machine.EtcdStatus({}, { node, signal })),
    alarms: onControlPlane(() => s.api.machine.EtcdAlarmList({}, { node, signal })),
    kernel: readKernelLog(s, node, {
      records: KERNEL_RECORDS,
      deadline_ms: Math.min(KERNEL_DEADLINE_MS, timeoutMs),
      signal,
    }),
    events: readEvents(s, node, {
      tail_seconds: EVENT_WINDOW_S,
      tail_count: 200,
      signal,
      deadline_ms: Math.min(EVENTS_DEADLINE_MS, timeoutMs),
      idle_ms: EVENTS_IDLE_MS,
    }),
  };
  const keys = Object.keys(jobs) as Array<keyof typeof jobs>;
  const settled = await Promise.allSettled(Object.values(jobs));
  const got: Partial<{ [K in keyof typeof jobs]: Awaited<(typeof jobs)[K]> }> = {};
  const unavailable: Record<string, string> = {};
  settled.forEach((r, i) => {
    if (r.status === "fulfilled") (got as Record<string, unknown>)[keys[i]] = r.value;
    else unavailable[keys[i]] = r.reason instanceof ToolError ? firstSentence(r.reason.message) : String(r.reason);
  });
  // The node did not answer (nothing did, or neither its version nor its status for being unreachable):
  // one error for the node, not a list of parts that all failed for the same reason.
  const failed = (k: keyof typeof jobs) => settled[keys.indexOf(k)] as PromiseRejectedResult;
  if (
    Object.keys(unavailable).length === keys.length ||
    (unreachable(failed("version")?.reason) && unreachable(failed("machine")?.reason))
  ) {
    throw failed("version").reason;
  }
  // etcd's role-gated calls fail with the role lookup; that is said once, under role.
  if (unavailable.role) {
    delete unavailable.etcd;
    delete unavailable.alarms;
  }

  const warnings: string[] = [];
  const out: Summary = { warnings, unavailable };
  const tag = got.version?.messages?.[0]?.version?.tag;
  if (tag) out.talos = tag;
  if (got.role) out.role = String(got.role.spec ?? "").trim();
  const kubeletImage = (got.kubelet?.spec as { image?: string } | undefined)?.image;
  if (kubeletImage) out.kubernetes = kubeletImage.slice(kubeletImage.lastIndexOf(":") + 1);
  const ms = got.machine?.spec as Parameters<typeof machineWarning>[0] | undefined;
  if (ms) {
    out.stage = ms.stage ?? "";
    out.ready = ms.status?.ready === true;
  }
  const k8s = got.k8sNode?.items[0]?.spec as { nodeReady?: boolean; unschedulable?: boolean } | undefined;
  if (k8s) out.k8s_node_ready = k8s.nodeReady === true;
  if (got.system) {
    out.uptime_s = got.system.uptime_s;
    out.cpus = got.system.cpus;
    out.cpu_busy_pct_since_boot = got.system.cpu_busy_pct_since_boot;
  }
  if (got.load) out.load = got.load;
  if (got.memory) out.memory = { total_mib: got.memory.total_mib, used_pct: got.memory.used_pct };
  if (got.mounts) {
    out.disks = watchedVolumes(got.mounts).map((m) => ({
      volume: m.volume,
      mount: m.mounted_on,
      size_gib: m.size_gib,
      used_pct: m.used_pct,
    }));
  }

  // Warnings, most basic first: the machine, then what holds it back, then resources and history.
  const nowS = Date.now() / 1000;
  const troubles = got.services
    ? serviceTroubles(got.services.messages?.[0]?.services ?? [], got.events, nowS)
    : new Map();
  const serviceLines = [...troubles.values()].filter((t) => t.id !== "etcd").map((t) =>
    serviceWarning(t, EVENT_WINDOW_S / 60)
  );
  const etcdStatus = got.etcd?.messages?.[0]?.member_status ?? undefined;
  const etcdLines = out.role === "controlplane" || troubles.has("etcd")
    ? etcdWarnings(etcdStatus, troubles.get("etcd"), EVENT_WINDOW_S / 60)
    : [];
  const time = timeWarning(got.time?.spec as Parameters<typeof timeWarning>[0]);
  const network = got.links && got.routes
    ? networkWarnings(specs(got.links), specs(got.routes), await addressLinks(s, node, got.routes, signal))
    : [];
  const notReady = k8s && !k8s.nodeReady ? "Kubernetes node NotReady (NodeStatus)" : undefined;
  const explained: Explained = {
    time: !!time,
    services: troubles.size > 0,
    network: network.length > 0,
    nodeReady: !!notReady,
  };
  const machine = ms ? machineWarning(ms, explained) : undefined;
  const kernel = got.kernel ? kernelWarnings(kernelFindings(got.kernel), KERNEL_RECORDS) : [];
  warnings.push(
    ...[machine, notReady].filter((w): w is string => !!w),
    ...(k8s?.unschedulable ? ["Kubernetes node cordoned (NodeStatus unschedulable)"] : []),
    ...etcdLines,
    ...serviceLines,
    ...[time].filter((w): w is string => !!w),
    ...network,
    ...(got.mounts ? volumeWarnings(got.mounts) : []),
    ...[got.memory && memoryWarning(got.memory)].filter((w): w is string => !!w),
    ...kernel,
    ...[got.load && got.system && loadWarning(got.load, got.system.cpus)].filter((w): w is string => !!w),
  );
  for (const d of got.diagnostics?.items ?? []) {
    const spec = d.spec as { message?: string; details?: string[] } | undefined;
    warnings.push(
      `Talos diagnostic ${d.id}: ${spec?.message ?? ""}${spec?.details?.length ? ` (${spec.details[0]})` : ""}`,
    );
  }
  if (got.events) warnings.push(...eventWarnings(got.events, new Set(troubles.keys()), got.machine !== undefined));
  const masked = warnings.map((w) => maskText(w));
  if (masked.length > MAX_WARNINGS) {
    const left = masked.length - (MAX_WARNINGS - 1);
    masked.splice(MAX_WARNINGS - 1, Infinity, `… and ${left} more warnings`);
  }
  out.warnings = masked;

  facts.push({
    node,
    version: tag,
    etcdMemberId: etcdStatus?.member_id ? String(etcdStatus.member_id) : undefined,
    alarms: got.alarms?.messages?.[0]?.member_alarms ?? [],
  });
  if (!Object.keys(unavailable).length) delete (out as Record<string, unknown>).unavailable;
  return out;
}

/**
 * The links holding the node's global addresses: how the primary link is found when there is no
 * default route to name it. Asked only then (a healthy node has one), and allowed to fail.
 */
async function addressLinks(
  s: TalosSession,
  node: string,
  routes: { items: Resource[] },
  signal: AbortSignal,
): Promise<string[]> {
  if (hasDefaultRoute(specs(routes))) return [];
  try {
    const addresses = await listResources(s, node, "network", "AddressStatuses.net.talos.dev", LIST_LIMIT, signal);
    return specs<{ linkName?: string; scope?: string }>(addresses)
      .filter((a) => a.spec.scope === "global")
      .map((a) => String(a.spec.linkName));
  } catch {
    return [];
  }
}

/** Warnings about the cluster as a whole, each said once: etcd alarms, version skew, the client certificate. */
function clusterWarnings(facts: readonly NodeFacts[], labels: Map<string, string>, cert: string | undefined) {
  const byMember = new Map(facts.filter((f) => f.etcdMemberId).map((f) => [f.etcdMemberId!, labels.get(f.node)!]));
  const versions = facts.filter((f) => f.version).map((f) => ({ node: labels.get(f.node)!, version: f.version! }));
  return [
    ...alarmWarnings(facts.flatMap((f) => f.alarms), (id) => byMember.get(id)),
    ...[skewWarning(versions), cert].filter((w): w is string => !!w),
  ];
}

/**
 * Warnings from the node's recent events, newest last, one per subject (a
 * service, the config, a sequence, the machine status): failures and errors,
 * marked "(since recovered)" when a later event of the same subject is fine.
 * Skips what the summary already shows: services unhealthy now or in a restart
 * loop, and the machine status when its current resource was read.
 */
function eventWarnings(events: EventMsg[], shown: Set<string>, machineKnown: boolean): string[] {
  const latest = new Map<string, { bad: EventMsg; ok: boolean }>();
  for (const e of events) {
    const d = eventData(e);
    const type = String(d["@type"] ?? "").replace(/^.*\/machine\./, "");
    let subject: string | undefined;
    let bad = false;
    if (type === "ServiceStateEvent") {
      subject = `service ${d.service}`;
      bad = d.action === "FAILED" || (d.health && !d.health.unknown && !d.health.healthy);
      if (shown.has(String(d.service))) continue;
    } else if (type === "ConfigLoadErrorEvent" || type === "ConfigValidationErrorEvent") {
      [subject, bad] = [type, true];
    } else if (type === "SequenceEvent") {
      [subject, bad] = [`sequence ${d.sequence}`, !!d.error?.message];
    } else if (type === "MachineStatusEvent" && !machineKnown) {
      [subject, bad] = ["machine", !d.status?.ready];
    }
    if (!subject) continue;
    if (bad) {
      latest.delete(subject); // re-insert: the map's order is the order of each subject's last failure
      latest.set(subject, { bad: e, ok: false });
    } else if (latest.has(subject)) latest.get(subject)!.ok = true;
  }
  return [...latest.values()]
    .slice(-MAX_EVENT_WARNINGS)
    .map((x) => `event ${describeEvent(x.bad)}${x.ok ? " (since recovered)" : ""}`.slice(0, 300));
}

/** The first sentence of an error: enough to say why a part is missing, without the fix text each time. */
function firstSentence(msg: string): string {
  const i = msg.search(/\.\s/);
  return i > 0 ? msg.slice(0, i + 1) : msg;
}

export const nodeSummaryTool = defineTool({
  name: "talos_node_summary",
  title: "Node: summary",
  description: "What is wrong, per node and cluster-wide, each warning with its evidence: failing or looping " +
    "services, etcd health, alarms and size, full volumes, memory, OOM kills, disk errors, time, network, " +
    "readiness, version skew, certificate expiry; plus versions, uptime and use. Call this first when asked " +
    "what is wrong with a cluster; one small result, no warnings when healthy.",
  annotations: READ_ONLY,
  view: CLUSTER_VIEW_URI,
  input: { context, nodes },
  output: {
    ...perNodeOutput(parts),
    cluster_warnings: v.pipe(
      v.array(v.string()),
      v.description("What is wrong with the cluster as a whole (etcd alarms, version skew, client certificate)."),
    ),
  },
  run: async (args, ctx) => {
    const facts: NodeFacts[] = [];
    const r = await perNode(ctx, args, (s, node) => summarize(s, node, ctx.signal, ctx.config.callTimeoutMs, facts));
    const session = await ctx.session(args.context);
    const labels = new Map(r.nodes.map((n) => [n.node, n.hostname ? `${n.node} (${n.hostname})` : n.node]));
    const cert = certWarning(session.ctx.name, session.ctx.cert.notAfter);
    return { ...r, cluster_warnings: clusterWarnings(facts, labels, cert).map((w) => maskText(w)) };
  },
});
