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
import { loadavg } from "node:os";
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
  /** Settings for this subject only (e.g. the toolsets). */
  env?: Record<string, string>;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
/** VmRSS, and its anonymous (heap, JIT, malloc) and file-backed (the executable's pages) parts, MiB. */
const memory = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") };
};
const memoryRow = (pid: number) => {
  const m = memory(pid);
  return { rssMiB: m.rss, anonMiB: m.anon, fileMiB: m.file };
};
/** What the model reads of tools/list (name, description, input schema per tool) and the whole result, bytes. */
const listBytes = (result: { tools: Array<Record<string, unknown>> }) => ({
  tools: result.tools.length,
  modelRead: result.tools.reduce(
    (n, t) =>
      n + Buffer.byteLength(JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
    0,
  ),
  whole: Buffer.byteLength(JSON.stringify(result)),
});

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

const ours = join(ROOT, "dist/talos-mcp");
const subjects: Subject[] = [
  { name: "talos-mcp (default toolsets)", bin: ours, versionArgs: { nodes: cps }, warmsUp: true },
  {
    name: "talos-mcp (all toolsets)",
    bin: ours,
    versionArgs: { nodes: cps },
    warmsUp: true,
    env: { TALOS_MCP_TOOLSETS: "all" },
  },
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
  anonMiB: number;
  fileMiB: number;
  list?: ReturnType<typeof listBytes>;
}
const rows: Row[] = [];
for (const s of subjects) {
  if (!existsSync(s.bin)) throw new Error(`${s.bin} is missing: run npm run build`);
  const cold: number[] = [];
  await coldStart(s.bin, { ...env, ...s.env }); // warm the page cache once
  const subjectEnv = { ...env, ...s.env };
  for (let i = 0; i < COLD_RUNS; i++) cold.push(await coldStart(s.bin, subjectEnv));

  const transport = new StdioClientTransport({ command: s.bin, env: subjectEnv, stderr: "ignore" });
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
  const row: Row = { name: s.name, coldMedianMs: quantile(cold, 0.5), rssMiB: NaN, anonMiB: NaN, fileMiB: NaN };
  if (s.versionArgs) {
    row.list = listBytes(await client.listTools() as unknown as { tools: Array<Record<string, unknown>> });
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
    Object.assign(row, memoryRow(transport.pid!)); // the figure: RSS after 300 warm calls
    const one: number[] = [];
    for (let i = 0; i < WARM_CALLS; i++) {
      const t = performance.now();
      await client.callTool({ name: "talos_version", arguments: { nodes: [cps[0]] } });
      one.push(performance.now() - t);
    }
    row.oneNodeP50Ms = quantile(one, 0.5);
  }
  if (!s.versionArgs) Object.assign(row, memoryRow(transport.pid!)); // the floor: idle
  await client.close();
  rows.push(row);
}
await sim.stop();

const f = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "—" : n.toFixed(2));
const kb = (n: number | undefined) => (n === undefined ? "—" : (n / 1000).toFixed(1));
console.log(
  `\ncold start = spawn → initialize result, median of ${COLD_RUNS}; talos_version over 3 nodes, ` +
    `${WARM_CALLS} warm calls, then ${WARM_CALLS} on 1 node; RSS after the ${WARM_CALLS} 3-node calls (floor: idle; anon = heap, JIT, malloc; ` +
    `file = pages of the executable); tools/list in KB (1000 bytes); load average ${
      loadavg().map((l) => l.toFixed(1)).join(" ")
    }\n`,
);
console.log(
  "| server | cold start ms | first call ms | warm p50 ms | warm p95 ms | 1-node p50 ms | RSS MiB | anon | file | " +
    "tools | tools/list model reads KB | whole KB |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${f(r.coldMedianMs)} | ${f(r.firstCallMs)} | ${f(r.warmP50Ms)} | ${f(r.warmP95Ms)} | ` +
      `${f(r.oneNodeP50Ms)} | ${f(r.rssMiB)} | ${f(r.anonMiB)} | ${f(r.fileMiB)} | ${r.list?.tools ?? "—"} | ` +
      `${kb(r.list?.modelRead)} | ${kb(r.list?.whole)} |`,
  );
}

// The goals, each with its ratio to the Go server (or the floor) from this same run.
const [def, all, floor, goRow] = [rows[0], rows[1], rows[2], rows[3] as Row | undefined];
const ratio = (a?: number, b?: number) => (a === undefined || b === undefined ? "—" : `${(a / b).toFixed(2)}×`);
const goals: Array<[string, number | undefined, number | undefined, string, boolean | undefined]> = [
  ["RSS after the warm calls, MiB (default)", def.rssMiB, goRow?.rssMiB, "≤ 64", def.rssMiB <= 64],
  ["RSS after the warm calls, MiB (all)", all.rssMiB, goRow?.rssMiB, "≤ 64", all.rssMiB <= 64],
  [
    "tools/list model reads, KB (default)",
    def.list!.modelRead / 1000,
    goRow?.list && goRow.list.modelRead / 1000,
    "≤ 12",
    def.list!.modelRead <= 12_000,
  ],
  [
    "tools/list model reads per tool, bytes (all)",
    all.list!.modelRead / all.list!.tools,
    goRow?.list && goRow.list.modelRead / goRow.list.tools,
    "≤ 1000",
    all.list!.modelRead / all.list!.tools <= 1000,
  ],
  [
    "tools/list whole, KB (all)",
    all.list!.whole / 1000,
    goRow?.list && goRow.list.whole / 1000,
    "≤ 28",
    all.list!.whole <= 28_000,
  ],
];
if (goRow) {
  goals.push(
    [
      "talos_version 3 nodes p50 ms",
      def.warmP50Ms,
      goRow.warmP50Ms,
      "≤ 1.5× Go",
      def.warmP50Ms! <= 1.5 * goRow.warmP50Ms!,
    ],
    [
      "talos_version 3 nodes p95 ms",
      def.warmP95Ms,
      goRow.warmP95Ms,
      "≤ 1.5× Go",
      def.warmP95Ms! <= 1.5 * goRow.warmP95Ms!,
    ],
  );
}
console.log("\n| goal | talos-mcp | Go | ratio | target | met |\n|---|---|---|---|---|---|");
for (const [what, ours, theirs, target, met] of goals) {
  console.log(`| ${what} | ${f(ours)} | ${f(theirs)} | ${ratio(ours, theirs)} | ${target} | ${met ? "yes" : "no"} |`);
}
console.log(
  `| cold start ms vs the bare SDK server | ${f(def.coldMedianMs)} | floor ${f(floor.coldMedianMs)} | ` +
    `${ratio(def.coldMedianMs, floor.coldMedianMs)} | ≤ 1.1× floor | ${
      def.coldMedianMs <= 1.1 * floor.coldMedianMs ? "yes" : "no"
    } |`,
);
writeFileSync(join(OUT, "results.json"), JSON.stringify({ at: new Date().toISOString(), rows }, null, 2));

// The HTTP figure (RSS under 20 clients) comes from its own bench, run here so one command prints every goal.
if (process.env.BENCH_HTTP !== "0") {
  execFileSync(process.execPath, [join(ROOT, "scripts/bench_http.ts")], { stdio: "inherit", timeout: 120_000 });
}
