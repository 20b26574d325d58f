/**
 * @module `npm run bench:http`: throughput, latency and memory of dist/talos-mcp
 * --http under 20 concurrent SDK clients calling talos_version against the
 * simulator. The simulator and the clients run in this process, so on a
 * small machine they compete with the server for CPU: the figures are a
 * floor. Prints figures; asserts nothing (the figures are recorded in docs/benchmarks.md).
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { startSim } from "../lib/sim/mod.ts";
import { httpClient, spawnHttp } from "../tests/harness_http.ts";

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Nodes per call: 1 measures the transport; 4 fans out to the whole simulated cluster. */
const NODES = Number(process.env.BENCH_NODES ?? 1);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const status = (pid: number, key: string) =>
  Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;
/** utime + stime of a process, seconds. */
const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};

const sim = await startSim({ controlPlanes: 3, workers: 1 });
const nodes = sim.cluster.nodes.slice(0, NODES).map((n) => n.ip);
// BENCH_SERVER_ENV="K=V K=V" reaches the server only, to compare GC and limit settings.
const passEnv = Object.fromEntries(
  (process.env.BENCH_SERVER_ENV ?? "").split(/\s+/).filter(Boolean).map((kv) => kv.split(/=(.*)/s).slice(0, 2)),
) as Record<string, string>;
const http = await spawnHttp(sim, { env: passEnv });
const pid = http.proc.pid!;
const clients = await Promise.all(Array.from({ length: CLIENTS }, () => httpClient(http.url)));
const call = async (c: (typeof clients)[number]) => {
  const r = await c.callTool({ name: "talos_version", arguments: { nodes } });
  if (r.isError) throw new Error(JSON.stringify(r.content));
};
// Warm every client's connection and the server's JIT before measuring.
for (let i = 0; i < 20; i++) await Promise.all(clients.map(call));

const rssIdle = status(pid, "VmRSS");
const latencies: number[] = [];
let rssPeak = 0;
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, status(pid, "VmRSS"))), 100);
const cpu0 = cpuSeconds(pid);
const started = performance.now();
const end = started + SECONDS * 1000;
await Promise.all(clients.map(async (c) => {
  while (performance.now() < end) {
    const t = performance.now();
    await call(c);
    latencies.push(performance.now() - t);
  }
}));
const elapsed = (performance.now() - started) / 1000;
const serverCpu = cpuSeconds(pid) - cpu0;
clearInterval(sampler);
rssPeak = Math.max(rssPeak, status(pid, "VmRSS"));
const hwm = status(pid, "VmHWM");
await Promise.all(clients.map((c) => c.close()));
await http.stop();
await sim.stop();

const f = (n: number) => n.toFixed(1);
console.log(
  `\n${CLIENTS} clients × talos_version on ${NODES} node(s), ${SECONDS} s, loopback; sim + clients in the bench process\n`,
);
console.log("| calls | calls/s | p50 ms | p95 ms | p99 ms | RSS idle MiB | RSS peak MiB | VmHWM MiB | server CPU |");
console.log("|---|---|---|---|---|---|---|---|---|");
console.log(
  `| ${latencies.length} | ${f(latencies.length / elapsed)} | ${f(quantile(latencies, 0.5))} | ` +
    `${f(quantile(latencies, 0.95))} | ${f(quantile(latencies, 0.99))} | ${f(rssIdle)} | ${f(rssPeak)} | ${f(hwm)} | ` +
    `${f((100 * serverCpu) / elapsed)}% of one core |`,
);
const rate = latencies.length / elapsed;
console.log(
  `\ngoal: RSS peak ≤ 120 MiB at ≥ 1,000 calls/s: ${rssPeak <= 120 && rate >= 1000 ? "met" : "not met"} ` +
    `(peak ${f(rssPeak)} MiB at ${f(rate)} calls/s; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")})`,
);
