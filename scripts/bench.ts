/**
 * @module `npm run bench`: start-up, latency and memory of dist/talos-mcp, side by
 * side with the floor (a bare SDK server compiled the same way) and the Go
 * talos-mcp v2.5.1 (installed on demand into a temp dir, linux-x64 only).
 * Prints figures; asserts nothing (the figures are recorded in docs/benchmarks.md).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startSim } from "../lib/sim/mod.ts";
import { installGoServer } from "./bench/go_server.ts";
import { WARMUP_DONE } from "../lib/warmup.ts";

const ROOT = resolve(import.meta.dir, "..");
const OUT = join(ROOT, ".bench");
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 20);
const WARM_CALLS = Number(process.env.BENCH_WARM_CALLS ?? 300);
mkdirSync(OUT, { recursive: true });

interface Subject {
  name: string;
  bin: string;
  /** Arguments of a talos_version call over the three control planes, or none for the floor. */
  versionArgs?: Record<string, unknown>;
  /** Says "warm-up done" in an MCP log message once connected. */
  warmsUp?: boolean;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** spawn → initialize result, measured on the raw stdio stream. */
async function coldStart(bin: string, env: Record<string, string>): Promise<number> {
  const init = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } },
  });
  const started = performance.now();
  const child = spawn(bin, [], { env, stdio: ["pipe", "pipe", "ignore"] });
  child.stdin.write(`${init}\n`);
  await new Promise<void>((done, fail) => {
    let buf = "";
    child.stdout.on("data", (b: Buffer) => {
      buf += b.toString();
      if (buf.includes('"id":1')) done();
    });
    child.on("exit", () => fail(new Error(`${bin} exited before answering initialize`)));
  });
  const ms = performance.now() - started;
  child.kill();
  return ms;
}

function buildFloor(): string {
  const out = join(OUT, "floor");
  execFileSync(process.execPath, [
    "build",
    join(ROOT, "scripts/bench/floor.ts"),
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    `--outfile=${out}`,
  ], { stdio: "ignore" });
  return out;
}

const sim = await startSim({ controlPlanes: 3, workers: 1 });
const cps = sim.cluster.controlPlanes().map((n) => n.ip);
const env = { PATH: process.env.PATH ?? "", HOME: sim.dir, TALOSCONFIG: sim.talosconfig };

const subjects: Subject[] = [
  { name: "talos-mcp (this)", bin: join(ROOT, "dist/talos-mcp"), versionArgs: { nodes: cps }, warmsUp: true },
  { name: "floor (bare SDK server)", bin: buildFloor() },
];
const go = installGoServer();
if (go) subjects.push({ name: "Go talos-mcp v2.5.1", bin: go, versionArgs: { nodes: cps } });

interface Row {
  name: string;
  coldMedianMs: number;
  firstCallMs?: number;
  warmP50Ms?: number;
  warmP95Ms?: number;
  /** Warm p50 with one target node: one RPC for every server, the like-for-like figure. */
  oneNodeP50Ms?: number;
  rssMiB: number;
}
const rows: Row[] = [];
for (const s of subjects) {
  if (!existsSync(s.bin)) throw new Error(`${s.bin} is missing: run npm run build`);
  const cold: number[] = [];
  await coldStart(s.bin, env); // warm the page cache once
  for (let i = 0; i < COLD_RUNS; i++) cold.push(await coldStart(s.bin, env));

  const transport = new StdioClientTransport({ command: s.bin, env, stderr: "ignore" });
  const client = new Client({ name: "bench", version: "1" });
  // talos-mcp connects in the background after initialize (the Go server before it answers):
  // the first call is measured once that is done, so both are compared on a ready server.
  const warm = new Promise<void>((done) => {
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      if (String(n.params.data).startsWith(WARMUP_DONE)) done();
    });
    if (!s.warmsUp) done();
  });
  await client.connect(transport);
  await Promise.race([warm, new Promise((r) => setTimeout(r, 5_000))]);
  const row: Row = { name: s.name, coldMedianMs: quantile(cold, 0.5), rssMiB: NaN };
  if (s.versionArgs) {
    const call = async () => {
      const t = performance.now();
      const r = await client.callTool({ name: "talos_version", arguments: s.versionArgs });
      if (r.isError) throw new Error(`${s.name}: ${JSON.stringify(r.content)}`);
      return performance.now() - t;
    };
    row.firstCallMs = await call();
    const warm: number[] = [];
    for (let i = 0; i < WARM_CALLS; i++) warm.push(await call());
    row.warmP50Ms = quantile(warm, 0.5);
    row.warmP95Ms = quantile(warm, 0.95);
    const one: number[] = [];
    for (let i = 0; i < WARM_CALLS; i++) {
      const t = performance.now();
      await client.callTool({ name: "talos_version", arguments: { nodes: [cps[0]] } });
      one.push(performance.now() - t);
    }
    row.oneNodeP50Ms = quantile(one, 0.5);
  }
  row.rssMiB = rssMiB(transport.pid!);
  await client.close();
  rows.push(row);
}
await sim.stop();

const f = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "—" : n.toFixed(2));
console.log(
  `\ncold start = spawn → initialize result, median of ${COLD_RUNS}; talos_version over 3 nodes, ` +
    `${WARM_CALLS} warm calls; RSS after the calls\n`,
);
console.log("| server | cold start ms | first call ms | warm p50 ms | warm p95 ms | 1-node p50 ms | RSS MiB |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${f(r.coldMedianMs)} | ${f(r.firstCallMs)} | ${f(r.warmP50Ms)} | ${f(r.warmP95Ms)} | ` +
      `${f(r.oneNodeP50Ms)} | ${f(r.rssMiB)} |`,
  );
}
writeFileSync(join(OUT, "results.json"), JSON.stringify({ at: new Date().toISOString(), rows }, null, 2));
