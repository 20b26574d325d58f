/**
 * `bun scripts/bench_summary.ts`: what talos_node_summary saves. For 3 nodes,
 * one talos_node_summary call against the calls an agent needs to collect the
 * same facts otherwise: the seed's tools (talos_version, talos_services,
 * talos_get of several types) measured through the binary, plus the stats the
 * seed has no tool for (memory, load, uptime/CPU, mounts), estimated as the
 * raw JSON of those RPCs a pass-through tool would return. Prints figures.
 */
import { startSim } from "../lib/sim/mod.ts";
import { Sessions } from "../lib/talos/session.ts";
import { loadConfig } from "../lib/config.ts";
import { ok, spawnHarness, text } from "../tests/harness.ts";

const sim = await startSim({ controlPlanes: 2, workers: 1 });
const h = await spawnHarness({ simInstance: sim });
const bytes = (s: string) => Buffer.byteLength(s, "utf8");
try {
  const nodes = sim.cluster.nodes.map((n) => n.ip);
  const summary = await h.call("talos_node_summary", { nodes });
  ok(summary);
  const summaryBytes = bytes(text(summary));

  const seed: Array<[string, Record<string, unknown>]> = [
    ["talos_version", { nodes }],
    ["talos_services", { nodes }],
    ["talos_get", { nodes, resource_type: "machinetype" }],
    ["talos_get", { nodes, resource_type: "machinestatus" }],
    ["talos_get", { nodes, resource_type: "nodestatus" }],
    ["talos_get", { nodes, resource_type: "kubeletspec" }],
    ["talos_get", { nodes, resource_type: "diagnostics" }],
  ];
  const rows: Array<[string, number, string]> = [];
  for (const [tool, args] of seed) {
    const r = await h.call(tool, args);
    ok(r);
    rows.push([`${tool}${args.resource_type ? ` ${args.resource_type}` : ""}`, bytes(text(r)), "measured"]);
  }
  // No seed tool returns these; a pass-through tool per RPC would return about the decoded response.
  const sessions = new Sessions(loadConfig({}), { TALOSCONFIG: sim.talosconfig, HOME: sim.dir });
  const s = await sessions.get();
  for (const rpc of ["SystemStat", "Memory", "LoadAvg", "Mounts"]) {
    let size = 0;
    for (const node of nodes) {
      const res = await s.client.unary<{ messages: unknown[] }>("machine.MachineService", rpc, {}, { node });
      size += bytes(JSON.stringify({ node, ...(res.messages[0] as object) }));
    }
    rows.push([`${rpc} (raw RPC JSON)`, size + 20, "estimated"]);
  }
  sessions.close();

  const total = rows.reduce((a, r) => a + r[1], 0);
  console.log(`talos_node_summary, ${nodes.length} nodes: 1 call, ${summaryBytes} bytes`);
  console.log(`without it: ${rows.length} calls, ${total} bytes`);
  for (const [name, size, how] of rows) console.log(`  ${name.padEnd(34)} ${String(size).padStart(7)} B  ${how}`);
  const measured = rows.filter((r) => r[2] === "measured").reduce((a, r) => a + r[1], 0);
  console.log(`  of which measured with the seed's tools: ${measured} bytes`);
  console.log(`ratio: ${(summaryBytes / total).toFixed(3)} of the bytes (target ≤ 0.333); ${rows.length}× fewer calls`);
  console.log(`ratio vs the measured seed calls alone: ${(summaryBytes / measured).toFixed(3)}`);
} finally {
  await h.close();
  await sim.stop();
}
