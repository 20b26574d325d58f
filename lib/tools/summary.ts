/**
 * @module talos_node_summary: one compact health picture per node, built from
 * about a dozen API calls made in parallel per node, each allowed to fail alone.
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { maskText } from "../secrets.ts";
import { getResource, listResources } from "../talos/cosi.ts";
import { loadAvg, memory, mounts, systemStat } from "../talos/node_stats.ts";
import type { TalosSession } from "../talos/session.ts";
import { CLUSTER_VIEW_URI } from "../apps/view.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { describeEvent, eventData, type EventMsg, readEvents } from "../talos/events.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";

/** Thresholds above which a figure becomes a warning. */
const MOUNT_WARN_PCT = 85;
const MEMORY_WARN_PCT = 90;
const MAX_WARNINGS = 10;
/** Events: the window looked at, how many of its warnings are kept, and how long the stream may take. */
const EVENT_WINDOW_S = 600;
const MAX_EVENT_WARNINGS = 4;
const EVENTS_DEADLINE_MS = 2_000;
/** The replay comes as one burst after the first message; a short quiet ends it (the summary should be quick). */
const EVENTS_IDLE_MS = 150;

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
  disks: v.array(v.object({ mount: v.string(), size_gib: v.number(), used_pct: v.number() })),
  unhealthy_services: v.array(v.object({ id: v.string(), state: v.string(), message: v.optional(v.string()) })),
  warnings: v.array(v.string()),
  unavailable: v.pipe(
    v.record(v.string(), v.string()),
    v.description("Parts that could not be read, with why (e.g. a role the certificate lacks)."),
  ),
};

type Summary = Record<string, unknown> & { warnings: string[]; unavailable: Record<string, string> };

async function summarize(s: TalosSession, node: string, signal: AbortSignal, timeoutMs: number): Promise<Summary> {
  const c = { session: s, node, signal };
  const get = (ns: string, type: string, id: string) => getResource(s, node, ns, type, id, signal);
  const jobs = {
    version: s.api.machine.Version(
      {},
      { node, signal },
    ),
    role: get("config", "MachineTypes.config.talos.dev", "machine-type"),
    machine: get("runtime", "MachineStatuses.runtime.talos.dev", "machine"),
    kubelet: get("k8s", "KubeletSpecs.kubernetes.talos.dev", "kubelet"),
    k8sNode: listResources(s, node, "k8s", "NodeStatuses.kubernetes.talos.dev", 1, signal),
    diagnostics: listResources(s, node, "runtime", "Diagnostics.runtime.talos.dev", MAX_WARNINGS, signal),
    system: systemStat(c),
    memory: memory(c),
    load: loadAvg(c),
    mounts: mounts(c),
    services: s.api.machine.ServiceList({}, { node, signal }),

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
  // Nothing answered: the node itself is the problem; report it as the node's error.
  if (Object.keys(unavailable).length === keys.length) throw settled.map((r) => (r as PromiseRejectedResult).reason)[0];

  const warnings: string[] = [];
  const out: Summary = { warnings, unavailable };
  const tag = got.version?.messages?.[0]?.version?.tag;
  if (tag) out.talos = tag;
  if (got.role) out.role = String(got.role.spec ?? "").trim();
  const kubeletImage = (got.kubelet?.spec as { image?: string } | undefined)?.image;
  if (kubeletImage) out.kubernetes = kubeletImage.slice(kubeletImage.lastIndexOf(":") + 1);
  const ms = got.machine?.spec as {
    stage?: string;
    status?: { ready?: boolean; unmetConditions?: Array<{ name: string; reason: string }> };
  } | undefined;
  if (ms) {
    out.stage = ms.stage ?? "";
    out.ready = ms.status?.ready === true;
    for (const u of ms.status?.unmetConditions ?? []) warnings.push(`not ready: ${u.name}: ${u.reason}`);
  }
  const k8s = got.k8sNode?.items[0]?.spec as { nodeReady?: boolean; unschedulable?: boolean } | undefined;
  if (k8s) {
    out.k8s_node_ready = k8s.nodeReady === true;
    if (!k8s.nodeReady) warnings.push("Kubernetes node is NotReady");
    if (k8s.unschedulable) warnings.push("Kubernetes node is cordoned (unschedulable)");
  }
  if (got.system) {
    out.uptime_s = got.system.uptime_s;
    out.cpus = got.system.cpus;
    out.cpu_busy_pct_since_boot = got.system.cpu_busy_pct_since_boot;
  }
  if (got.load) {
    out.load = got.load;
    if (got.system?.cpus && got.load[0] > got.system.cpus) {
      warnings.push(`load ${got.load[0]} exceeds ${got.system.cpus} CPUs`);
    }
  }
  if (got.memory) {
    out.memory = { total_mib: got.memory.total_mib, used_pct: got.memory.used_pct };
    if (got.memory.used_pct >= MEMORY_WARN_PCT) warnings.push(`memory ${got.memory.used_pct}% used`);
  }
  if (got.mounts) {
    out.disks = got.mounts.map((m) => ({ mount: m.mounted_on, size_gib: m.size_gib, used_pct: m.used_pct }));
    for (const m of got.mounts) {
      if (m.used_pct >= MOUNT_WARN_PCT) warnings.push(`${m.mounted_on} ${m.used_pct}% full`);
    }
  }
  if (got.services) {
    out.unhealthy_services = (got.services.messages?.[0]?.services ?? [])
      .filter((svc) =>
        (svc.health && !svc.health.unknown && !svc.health.healthy) || !["Running", "Finished"].includes(svc.state)
      )
      .map((svc) => ({
        id: svc.id,
        state: svc.state,
        ...(svc.health?.last_message ? { message: maskText(svc.health.last_message) } : {}),
      }));
  }
  for (const d of got.diagnostics?.items ?? []) {
    const spec = d.spec as { message?: string; details?: string[] } | undefined;
    warnings.push(
      maskText(`diagnostic ${d.id}: ${spec?.message ?? ""}${spec?.details?.length ? ` (${spec.details[0]})` : ""}`),
    );
  }
  if (got.events) {
    const listed = new Set((out.unhealthy_services as Array<{ id: string }> | undefined)?.map((x) => x.id));
    warnings.push(...eventWarnings(got.events, listed, got.machine !== undefined));
  }
  warnings.splice(MAX_WARNINGS);
  if (!Object.keys(unavailable).length) delete (out as Record<string, unknown>).unavailable;
  return out;
}

/**
 * Warnings from the node's recent events, newest last, one per subject (a
 * service, the config, a sequence, the machine status): failures and errors,
 * marked "(since recovered)" when a later event of the same subject is fine.
 * Skips what the summary already shows: services listed as unhealthy now, and
 * the machine status when its current resource was read.
 */
function eventWarnings(events: EventMsg[], unhealthyNow: Set<string>, machineKnown: boolean): string[] {
  const latest = new Map<string, { bad: EventMsg; ok: boolean }>();
  for (const e of events) {
    const d = eventData(e);
    const type = String(d["@type"] ?? "").replace(/^.*\/machine\./, "");
    let subject: string | undefined;
    let bad = false;
    if (type === "ServiceStateEvent") {
      subject = `service ${d.service}`;
      bad = d.action === "FAILED" || (d.health && !d.health.unknown && !d.health.healthy);
      if (unhealthyNow.has(String(d.service))) continue;
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
    .map((x) => maskText(`event ${describeEvent(x.bad)}${x.ok ? " (since recovered)" : ""}`).slice(0, 300));
}

/** The first sentence of an error: enough to say why a part is missing, without the fix text each time. */
function firstSentence(msg: string): string {
  const i = msg.search(/\.\s/);
  return i > 0 ? msg.slice(0, i + 1) : msg;
}

export const nodeSummaryTool = defineTool({
  name: "talos_node_summary",
  title: "Node: summary",
  description: "One compact health summary per node: role, Talos/Kubernetes versions, uptime, CPU, memory, " +
    "load, disk use, unhealthy services and warnings (incl. recent failure events). Call this first when asked what is wrong with a " +
    "cluster; ~12 API calls per node in parallel, one small result.",
  annotations: READ_ONLY,
  view: CLUSTER_VIEW_URI,
  input: { context, nodes },
  output: perNodeOutput(parts),
  run: (args, ctx) => perNode(ctx, args, (s, node) => summarize(s, node, ctx.signal, ctx.config.callTimeoutMs)),
});
