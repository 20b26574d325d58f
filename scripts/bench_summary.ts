/**
 * `bun scripts/bench_summary.ts`: what talos_node_summary saves. For 3 nodes,
 * one talos_node_summary call against the calls an agent makes to collect the
 * same facts with the seed's tools (the Go talos-mcp's table): talos_version,
 * talos_services, talos_get of five resource types, talos_events, and
 * talos_read_file of /proc/meminfo, /proc/loadavg, /proc/uptime and /proc/stat
 * (the seed has no stats tool). Every figure is measured: the text each call
 * puts into the agent's context, through our binary and, where it can be
 * fetched (linux-x64), through the Go talos-mcp v2.5.1 itself, both against
 * the simulator. Then the latency of one talos_node_summary call for a
 * 4-node cluster (3 control planes, 1 worker) through the binary: median and
 * slowest of LATENCY_RUNS calls after one warm call. Prints figures; asserts nothing.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startSim } from "../lib/sim/mod.ts";
import { ok, spawnHarness, text } from "../tests/harness.ts";
import { installGoServer } from "./bench/go_server.ts";

const LATENCY_RUNS = 15;

/** Median and slowest wall time of talos_node_summary over every node of a 3+1 cluster. */
async function latency(): Promise<{ median: number; max: number }> {
  const h4 = await spawnHarness({ sim: { controlPlanes: 3, workers: 1 } });
  try {
    ok(await h4.call("talos_node_summary")); // connections and protos warm, as in a session
    const ms: number[] = [];
    for (let i = 0; i < LATENCY_RUNS; i++) {
      const t = performance.now();
      ok(await h4.call("talos_node_summary"));
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    return { median: Math.round(ms[ms.length >> 1]), max: Math.round(ms[ms.length - 1]) };
  } finally {
    await h4.close();
  }
}

const sim = await startSim({ controlPlanes: 2, workers: 1 });
const nodes = sim.cluster.nodes.map((n) => n.ip);
const bytes = (r: CallToolResult) => Buffer.byteLength(text(r), "utf8");

/** The seed-tool calls that give the summary's facts, each with the facts it is there for. */
const SEED_CALLS: Array<[string, Record<string, unknown>, string]> = [
  ["talos_version", {}, "Talos version"],
  ["talos_services", {}, "unhealthy services"],
  ["talos_get", { resource_type: "MachineTypes.config.talos.dev" }, "role"],
  ["talos_get", { resource_type: "MachineStatuses.runtime.talos.dev" }, "stage, ready, unmet conditions"],
  ["talos_get", { resource_type: "NodeStatuses.kubernetes.talos.dev" }, "Kubernetes node ready, cordoned"],
  ["talos_get", { resource_type: "KubeletSpecs.kubernetes.talos.dev" }, "Kubernetes version"],
  ["talos_get", { resource_type: "Diagnostics.runtime.talos.dev" }, "Talos' own warnings"],
  ["talos_events", {}, "recent failures"],
  ["talos_read_file", { path: "/proc/meminfo" }, "memory"],
  ["talos_read_file", { path: "/proc/loadavg" }, "load"],
  ["talos_read_file", { path: "/proc/uptime" }, "uptime"],
  ["talos_read_file", { path: "/proc/stat" }, "CPUs, CPU busy since boot"],
];

type Call = (name: string, args: Record<string, unknown>) => Promise<CallToolResult>;

interface Row {
  label: string;
  calls: number;
  bytes: number;
  error?: string;
}

/**
 * Each seed call over the 3 nodes at once. A call the API refuses for several
 * nodes (COSI has no one-to-many proxying, and the Go server's talos_get sends
 * `nodes`) is made once per node instead, as an agent would after the error;
 * the refused attempt is not counted.
 */
async function seedCalls(call: Call): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [tool, args, why] of SEED_CALLS) {
    const label = `${tool}${args.resource_type ? ` ${args.resource_type}` : ""}${args.path ? ` ${args.path}` : ""}`;
    let results = [await call(tool, { ...args, nodes })];
    if (results[0].isError && text(results[0]).includes("one-2-many")) {
      results = await Promise.all(nodes.map((n) => call(tool, { ...args, nodes: [n] })));
    }
    const failed = results.find((r) => r.isError);
    rows.push({
      label: `${label} (${why})`,
      calls: results.length,
      bytes: results.reduce((a, r) => a + bytes(r), 0),
      ...(failed ? { error: text(failed).slice(0, 120) } : {}),
    });
  }
  return rows;
}

const h = await spawnHarness({ simInstance: sim });
const goBin = installGoServer();
try {
  const summary = await h.call("talos_node_summary", { nodes });
  ok(summary);
  const summaryBytes = bytes(summary);
  const columns: Array<[string, Row[]]> = [
    ["seed tools as talos-mcp implements them", await seedCalls((n, a) => h.call(n, a))],
  ];
  if (goBin) {
    const go = new Client({ name: "bench-summary", version: "1" });
    await go.connect(
      new StdioClientTransport({
        command: goBin,
        env: { PATH: process.env.PATH ?? "", HOME: sim.dir, TALOSCONFIG: sim.talosconfig, TALOS_MCP_TOOLSETS: "all" },
        stderr: "ignore",
      }),
    );
    columns.push([
      "the Go talos-mcp v2.5.1 (the seed itself)",
      await seedCalls((n, a) => go.callTool({ name: n, arguments: a }) as Promise<CallToolResult>),
    ]);
    await go.close();
  }

  console.log(`talos_node_summary, ${nodes.length} nodes: 1 call, ${summaryBytes} bytes`);
  for (const [name, rows] of columns) {
    // A call that failed did not deliver its facts: left out, so the total is a lower bound.
    const counted = rows.filter((r) => !r.error);
    const total = counted.reduce((a, r) => a + r.bytes, 0);
    const calls = counted.reduce((a, r) => a + r.calls, 0);
    const missing = rows.length - counted.length;
    console.log(
      `\n${name}: ${calls} calls, ${total} bytes${
        missing ? ` (${missing} lookups failed and are not counted: a lower bound)` : ""
      }`,
    );
    for (const r of rows) {
      const n = r.calls > 1 ? `${r.calls} calls` : "";
      const label = r.label.length > 62 ? `${r.label.slice(0, 61)}…` : r.label;
      console.log(
        `  ${label.padEnd(64)} ${n.padStart(8)} ${String(r.bytes).padStart(7)} B${
          r.error ? `  failed, not counted: ${r.error.slice(0, 80)}` : ""
        }`,
      );
    }
    console.log(
      `  summary = ${(summaryBytes / total * 100).toFixed(1)}% of the bytes (target ≤ 33%), 1 call instead of ${calls}${
        missing ? "+" : ""
      }`,
    );
  }
  console.log("\nnot counted: disk use per mount (no seed tool gives it; /proc/mounts has no sizes)");
  const lat = await latency();
  console.log(
    `\nlatency, talos_node_summary over 4 nodes (3 control planes, 1 worker), ${LATENCY_RUNS} calls: ` +
      `median ${lat.median} ms, slowest ${lat.max} ms (target < 500 ms)`,
  );
} finally {
  await h.close();
  await sim.stop();
}
