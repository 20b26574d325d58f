/**
 * A short tour: starts the simulated cluster (one node down, one service
 * unhealthy), runs the real binary through a real MCP client (the official
 * SDK over stdio), and prints what the main tools return, shortened to a few
 * lines each. `npm run demo` builds first.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startSim } from "../lib/sim/mod.ts";
import { plantFault } from "../lib/sim/scenarios.ts";

const BIN = resolve(import.meta.dir, "..", "dist/talos-mcp");
const WIDTH = 118;
const say = (s = "") => process.stdout.write(`${s}\n`);

// 10.5.0.6 is a fresh machine booted from the ISO: in maintenance mode, waiting for its config.
const sim = await startSim({ controlPlanes: 3, workers: 1, maintenanceNodes: 1 });
sim.cluster.nodes[3].faults.down = true; // one unreachable node
sim.cluster.setService("10.5.0.3", "kubelet", { healthy: false, message: "node not ready: PLEG is not healthy" });
// etcd on 10.5.0.4 failed four minutes ago and came back: the summary's warnings say so, from the node's events.
sim.cluster.nodes[2].recentEvents = [
  { secondsAgo: 240, type: "ServiceStateEvent", data: { service: "etcd", action: "FAILED", message: "exit code 2" } },
  {
    secondsAgo: 200,
    type: "ServiceStateEvent",
    data: { service: "etcd", action: "RUNNING", health: { unknown: false, healthy: true } },
  },
];
// A few of the faults the summary names (lib/sim/scenarios.ts): a fragmented etcd database, an OOM kill,
// and an etcd NOSPACE alarm, which is cluster-wide.
plantFault(sim.cluster, "10.5.0.2", "etcd-db-fragmented");
plantFault(sim.cluster, "10.5.0.3", "oom-kill");
plantFault(sim.cluster, "10.5.0.4", "etcd-alarm-nospace");

/** The binary over stdio, with its stderr (logs and AUDIT lines) kept for the tour to quote. */
async function connect(env: Record<string, string> = {}): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: BIN,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: sim.dir,
      TALOSCONFIG: sim.talosconfig,
      TALOS_MCP_TOOLSETS: "all",
      ...env,
    },
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  const client = new Client({ name: "talos-mcp-demo", version: "1.0.0" });
  await client.connect(transport);
  return { client, stderr: () => err };
}

type Entry = Record<string, any>;
const cut = (s: string, n = WIDTH - 4) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const line = (s: string) => say(`  ${cut(s.replace(/\s*\n\s*/g, " "), WIDTH - 2)}`);
const nodesOf = (r: CallToolResult) => ((r.structuredContent as Entry)?.nodes ?? []) as Entry[];
const failed = (e: Entry) => (e.error ? (line(`${e.node}: ${e.code ?? "error"}: ${e.error}`), true) : false);
const days = (s: number) => `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;

/** Paths in `v` whose value was masked, e.g. machine.ca.key. */
function maskedPaths(v: unknown, at = ""): string[] {
  if (typeof v === "string") return v.startsWith("<masked") ? [`${at.replace(/^\.\d+\./, "")}: ${v}`] : [];
  if (v && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => maskedPaths(x, `${at}.${k}`));
  return [];
}

/** How each step's result is shown: the few facts that matter, one line each. */
const RENDER: Record<string, (r: CallToolResult) => void> = {
  talos_contexts: (r) => {
    for (const c of (r.structuredContent as Entry).contexts) {
      line(
        `${c.name}${c.current ? " (current)" : ""}: ${c.roles.join(", ")}, ${c.nodes.length} nodes via ` +
          `${c.endpoints.join(", ")}, certificate expires ${c.expires.slice(0, 10)}`,
      );
    }
  },
  talos_node_summary: (r) => {
    for (const e of nodesOf(r)) {
      if (failed(e)) continue;
      const fullest = [...(e.disks ?? [])].sort((a: Entry, b: Entry) => b.used_pct - a.used_pct)[0];
      line(
        `${e.node} ${e.hostname} ${e.role} ${e.talos} k8s ${e.kubernetes} ${e.ready ? "ready" : "NOT READY"} ` +
          `up ${days(e.uptime_s)} load ${e.load?.[0]}/${e.cpus}cpu mem ${e.memory?.used_pct}%` +
          (fullest ? ` ${fullest.mount} ${fullest.used_pct}%` : ""),
      );
      for (const w of e.warnings ?? []) line(`    warning: ${w}`);
      if (e.unavailable) line(`    unavailable: ${JSON.stringify(e.unavailable)}`);
    }
    for (const w of (r.structuredContent as Entry).cluster_warnings ?? []) line(`cluster: ${w}`);
  },
  talos_logs: (r) => {
    for (const e of nodesOf(r)) {
      if (failed(e)) continue;
      line(`${e.node}: ${e.matched} of ${e.scanned} lines matched; the last ${e.lines.length}:`);
      for (const l of e.lines) line(`    ${l}`);
    }
  },
  talos_health: (r) => {
    const v = r.structuredContent as Entry;
    line(`run by ${v.node}, ${v.discovered.length} nodes discovered; healthy: ${v.healthy}`);
    for (const c of v.checks) {
      line(`    ${c.result === "OK" ? "ok  " : "FAIL"} ${c.check}${c.result === "OK" ? "" : `: ${c.result}`}`);
    }
  },
  talos_get: (r) => {
    for (const e of nodesOf(r)) {
      if (failed(e)) continue;
      const masked = maskedPaths(e.resources?.[0]?.spec);
      line(`${e.node}: ${e.resources.length} resources; ${masked.length} values masked in ${e.resources[0].id}, e.g.:`);
      for (const m of masked.slice(0, 4)) line(`    ${m}`);
    }
  },
  talos_patch_config: (r) => {
    for (const e of nodesOf(r)) {
      if (failed(e)) continue;
      line(`${e.node}: changed ${e.changed}, ${e.patch_kind} patch, mode ${e.mode}; the node's diff:`);
      const diff = String(e.details ?? "").split("\n");
      for (const l of diff.filter((l) => /^(@@|[+-][^+-])/.test(l)).slice(0, 6)) say(`    ${cut(l)}`);
    }
  },
  talos_version: (r) => {
    for (const e of nodesOf(r)) {
      if (failed(e)) continue;
      line(
        `${e.node}${e.hostname ? ` ${e.hostname}` : ""}: Talos ${e.tag} on ${e.platform}` +
          (e.cert_fingerprint ? `; certificate sha256 ${e.cert_fingerprint.slice(0, 16)}… (pin it next time)` : ""),
      );
    }
  },
  talos_apply_config: (r) => {
    const v = r.structuredContent as Entry;
    line(`file ${v.file.path}: ${v.file.bytes} bytes, sha256 ${v.file.sha256.slice(0, 16)}… (never sent to the agent)`);
    for (const e of nodesOf(r)) {
      if (failed(e)) continue;
      line(
        `${e.node}: ${e.applied ? "applied" : "dry run"}, mode ${e.mode}: ${
          e.details.split("\n").slice(0, 2).join(" ")
        }`,
      );
      if (e.next) line(`    next: ${e.next}`);
    }
  },
  talos_upgrade_plan: (r) => {
    const v = r.structuredContent as Entry;
    line(`to ${v.target}, path ${v.path.join(" → ")}`);
    for (const b of v.blockers ?? []) line(`    blocker: ${b}`);
    for (const st of v.steps.slice(0, 10)) line(`    ${st.step}. ${st.action} ${st.nodes.join(", ")}: ${st.detail}`);
    if (v.steps.length > 10) line(`    … ${v.steps.length - 10} more steps`);
  },
};

RENDER.talos_validate = (r) => {
  const v = r.structuredContent as { valid: boolean; errors: unknown[]; warnings: unknown[] };
  line(`valid: ${v.valid}; ${v.errors.length} errors, ${v.warnings.length} warnings`);
};

const text = (r: CallToolResult) => (r.content as Array<{ text?: string }>).map((c) => c.text ?? "").join("");

async function step(c: Client, name: string, args: Record<string, unknown>, why: string): Promise<void> {
  const started = performance.now();
  const r = await c.callTool({ name, arguments: args }) as CallToolResult;
  const ms = (performance.now() - started).toFixed(0);
  say(`\n▶ ${why}`);
  say(`  ${cut(`${name} ${JSON.stringify(args)}`, WIDTH - 16)}  (${ms} ms${r.isError ? ", error" : ""})`);
  if (r.isError || !RENDER[name]) { for (const l of text(r).split("\n").slice(0, 4)) line(l); }
  else RENDER[name](r);
}

const t0 = performance.now();
const { client, stderr } = await connect();
const { tools } = await client.listTools();
say(`Simulated cluster: ${sim.cluster.nodes.map((n) => `${n.hostname} ${n.ip}`).join(", ")}.`);
say(
  "10.5.0.5 is down; kubelet on 10.5.0.3 is unhealthy and the kernel killed a process there; etcd on 10.5.0.4 " +
    "failed a few minutes ago; etcd's database is fragmented on 10.5.0.2 and a NOSPACE alarm is raised.",
);
say(`talos-mcp lists ${tools.length} tools.`);

await step(client, "talos_contexts", {}, "Which clusters and roles do I have? (reads the talosconfig, no API call)");
await step(
  client,
  "talos_node_summary",
  {},
  "What is wrong with my cluster? One call: each node's warnings with their evidence, then the cluster's",
);
await step(
  client,
  "talos_logs",
  { service_name: "kubelet", nodes: ["10.5.0.3"], grep: "error|fail", tail_lines: 3 },
  "The unhealthy kubelet's log, grepped in our process (only matches reach the agent)",
);
await step(
  client,
  "talos_health",
  { wait_timeout: "2s" },
  "Cluster health check, run by one control-plane node",
);
await step(
  client,
  "talos_get",
  { resource_type: "machineconfig", nodes: ["10.5.0.2"] },
  "The machine config: tokens and keys masked before they reach the agent",
);
await step(
  client,
  "talos_patch_config",
  { nodes: ["10.5.0.2"], patch: 'machine:\n  sysctls:\n    vm.max_map_count: "262144"\n' },
  "A config patch, dry run (the default): the node computes the diff, nothing is applied",
);
const reboots = sim.callsTo("Reboot").length;
await step(client, "talos_reboot", { nodes: ["10.5.0.2"] }, "A mutating call without confirm: true is refused");
const audit = stderr().split("\n").filter((l) => l.includes("AUDIT") && l.includes("talos_reboot")).at(-1);
say(`  simulator: ${sim.callsTo("Reboot").length - reboots} Reboot RPCs received; server stderr:`);
if (audit) say(`  ${audit.length > WIDTH ? `${audit.slice(0, WIDTH - 1)}…` : audit}`);
sim.cluster.nodes[3].faults.down = false;
say("\n(10.5.0.5 is back up.)");
await step(
  client,
  "talos_upgrade_plan",
  { version: "v1.14.0" },
  "A rolling upgrade, planned and not executed (workers in batches, control planes one at a time, gated)",
);
await client.close();

// A new node joins: the agent talks to it unverified (maintenance mode has no CA), pinned, and gives it a config
// the server reads from a local file. (The lead's talos_validate step goes before the dry run.)
const fresh = await sim.maintenance("10.5.0.6");
const config = join(sim.dir, "worker-2.yaml");
writeFileSync(
  config,
  sim.cluster.find("10.5.0.5")!.machineConfig.replace("hostname: sim-worker-1", "hostname: sim-worker-2"),
);
say(`\n(Chapter: a new node. 10.5.0.6 booted from the ISO and serves the maintenance API on 127.0.0.1:${fresh.port}.)`);
const mm = await connect({ TALOS_MCP_ENABLE_INSECURE: "true", TALOS_MCP_INSECURE_ALLOWED_NODES: "127.0.0.1" });
const target = { nodes: ["127.0.0.1"], insecure: true, endpoint: `127.0.0.1:${fresh.port}` };
await step(
  mm.client,
  "talos_version",
  target,
  "Who is this? insecure: TLS without a CA, the certificate seen is reported",
);
await step(
  mm.client,
  "talos_validate",
  { path: config },
  "Is the config file one Talos accepts? Checked offline (schema and Talos' own rules), no node involved",
);
const pinned = { ...target, cert_fingerprint: fresh.fingerprint };
await step(
  mm.client,
  "talos_apply_config",
  { ...pinned, config_file: config },
  "The config, dry run, pinned to that certificate",
);
sim.cluster.rebootCalls = 0; // the simulated install and reboot take no time
await step(
  mm.client,
  "talos_apply_config",
  { ...pinned, config_file: config, dry_run: false, confirm: true },
  "Applied: the node installs, reboots and joins the cluster",
);
await step(
  mm.client,
  "talos_version",
  { nodes: ["10.5.0.6"] },
  "Now a member: reached through the talosconfig, verified",
);
await mm.client.close();

const ro = await connect({ TALOS_MCP_READ_ONLY: "true" });
const roTools = new Set((await ro.client.listTools()).tools.map((t) => t.name));
await ro.client.close();
const hidden = tools.map((t) => t.name).filter((n) => !roTools.has(n));
say("\n▶ Read-only mode (TALOS_MCP_READ_ONLY=true) lists no mutating tool");
say(`  ${roTools.size} of ${tools.length} tools listed; hidden:`);
for (let i = 0; i < hidden.length; i += 5) {
  say(`    ${hidden.slice(i, i + 5).join(", ")}${i + 5 < hidden.length ? "," : ""}`);
}

await sim.stop();
say(`\nDone in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
say("Try it yourself: `dist/talos-mcp sim` prints a talosconfig path; point any MCP client at dist/talos-mcp");
say("with TALOSCONFIG set to it (e.g. npx @modelcontextprotocol/inspector).");
