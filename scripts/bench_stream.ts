/**
 * @module `npm run bench:stream`: memory of dist/talos-mcp while tools stream a
 * 200 MiB simulated file and a 200 MiB simulated log. Samples the server's
 * RSS every 5 ms (and its kernel-kept peak, VmHWM, reset before each run)
 * and prints the growth over the idle baseline. Target: ≤ 16 MiB. Prints
 * figures; asserts nothing.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { BIG_FILE, BIG_FILE_SIZE } from "../lib/sim/fs.ts";
import { bigLog } from "../lib/sim/logs.ts";
import { startSim } from "../lib/sim/mod.ts";
import { WARMUP_DONE } from "../lib/warmup.ts";

const BIN = resolve(import.meta.dir, "..", "dist/talos-mcp");
const MiB = 1 << 20;

const status = (pid: number, key: "VmRSS" | "VmHWM") => {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
};

const sim = await startSim({ controlPlanes: 1, workers: 0 });
const LOG_MIB = Number(process.env.BENCH_LOG_MIB ?? 200);
sim.cluster.nodes[0].extraLogs = new Map([["bigapp", bigLog(LOG_MIB * MiB)]]);
const transport = new StdioClientTransport({
  command: BIN,
  args: [],
  env: {
    PATH: process.env.PATH ?? "",
    HOME: sim.dir,
    TALOSCONFIG: sim.talosconfig,
    TALOS_MCP_TOOLSETS: "all",
    TALOS_MCP_TIMEOUT_MS: "600000", // let the grep scan the whole 200 MiB log
    ...(process.env.BUN_OPTIONS ? { BUN_OPTIONS: process.env.BUN_OPTIONS } : {}),
  },
  stderr: "ignore",
});
const client = new Client({ name: "bench-stream", version: "1" });
let warmed!: () => void;
const warm = new Promise<void>((r) => (warmed = r));
client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
  if (String(n.params.data).startsWith(WARMUP_DONE)) warmed();
});
await client.connect(transport);
await warm;
const pid = transport.pid!;

async function measure(label: string, name: string, args: Record<string, unknown>) {
  // One small call first so lazily loaded code is in the baseline, not in the growth.
  await client.callTool({ name: "talos_version", arguments: {} });
  Bun.gc(true);
  const baseline = status(pid, "VmRSS");
  writeFileSync(`/proc/${pid}/clear_refs`, "5"); // reset VmHWM to the current RSS
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, status(pid, "VmRSS"))), 5);
  const started = performance.now();
  const res = await client.callTool({ name, arguments: args });
  const ms = performance.now() - started;
  clearInterval(timer);
  peak = Math.max(peak, status(pid, "VmHWM"));
  const calls = sim.callsTo(name === "talos_logs" ? "Logs" : "Read");
  const sent = calls.at(-1)?.sent ?? 0;
  const text = JSON.stringify(res.structuredContent ?? res.content).slice(0, 160);
  console.log(
    `${label.padEnd(44)} ${(ms / 1000).toFixed(1).padStart(6)} s  sim sent ${
      ((sent * 1024) / MiB).toFixed(1).padStart(6)
    } MiB  RSS baseline ${(baseline / MiB).toFixed(1)} MiB, peak growth ${((peak - baseline) / MiB).toFixed(1)} MiB`,
  );
  console.log(`  ${text}…`);
}

console.log(`server pid ${pid}; ${BIG_FILE_SIZE / MiB} MiB file ${BIG_FILE}; ${LOG_MIB} MiB log "bigapp"`);
// Two rounds: the first also grows the heap to its working size, the second shows the steady state.
for (const round of [1, 2]) {
  console.log(`round ${round}`);
  await measure("read_file, default max_bytes (32 KiB)", "talos_read_file", { path: BIG_FILE });
  await measure("read_file, max_bytes 1 MiB (the maximum)", "talos_read_file", { path: BIG_FILE, max_bytes: MiB });
  await measure("logs, tail 100 (Talos tails)", "talos_logs", { service_name: "bigapp", tail_lines: 100 });
  await measure(`logs, grep over all ${LOG_MIB} MiB, tail 5000`, "talos_logs", {
    service_name: "bigapp",
    tail_lines: 5000,
    grep: "batch 0+[0-9]*7 ",
  });
  await measure(`logs, grep over all ${LOG_MIB} MiB, tail 100`, "talos_logs", {
    service_name: "bigapp",
    tail_lines: 100,
    grep: "batch 0+[0-9]*7 ",
  });
}
await client.close();
await sim.stop();
process.exit(0);
