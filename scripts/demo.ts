/**
 * A short tour: starts the simulated cluster, runs the real binary through a
 * real MCP client (the official SDK over stdio), and prints what each tool
 * returns. `npm run demo` builds first.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { resolve } from "node:path";
import { startSim } from "../lib/sim/mod.ts";

const BIN = resolve(import.meta.dir, "..", "dist/talos-mcp");
const sim = await startSim({ controlPlanes: 3, workers: 1 });
sim.cluster.nodes[3].faults.down = true; // show how one unreachable node is reported

const transport = new StdioClientTransport({
  command: BIN,
  env: { PATH: process.env.PATH ?? "", TALOSCONFIG: sim.talosconfig },
  stderr: "ignore",
});
const client = new Client({ name: "talos-mcp-demo", version: "1.0.0" });
await client.connect(transport);

const say = (s: string) => process.stdout.write(`${s}\n`);
const { tools } = await client.listTools();
say(`Simulated cluster: ${sim.cluster.nodes.map((n) => `${n.hostname} (${n.ip})`).join(", ")}; 10.5.0.5 is down.`);
say(`talos-mcp offers ${tools.length} tools: ${tools.map((t) => t.name).join(", ")}\n`);

const tour: Array<[string, Record<string, unknown>, string]> = [
  ["talos_version", {}, "versions across every node, one of them unreachable"],
  ["talos_services", { nodes: ["10.5.0.2"] }, "system services of one control plane"],
  ["talos_resource_definitions", { filter: "status" }, "which COSI types exist (filtered)"],
  ["talos_get", { resource_type: "machinestatus", nodes: ["10.5.0.2", "10.5.0.3"] }, "a COSI resource by alias"],
  [
    "talos_get",
    { resource_type: "mc", resource_id: "v1alpha1", nodes: ["10.5.0.2"] },
    "machine config, secrets masked",
  ],
  [
    "talos_get",
    { resource_type: "machineconfig", context: "sim-reader", nodes: ["10.5.0.2"] },
    "the same with a reader certificate",
  ],
];
for (const [name, args, why] of tour) {
  const started = performance.now();
  const r = await client.callTool({ name, arguments: args });
  const ms = (performance.now() - started).toFixed(1);
  const text = (r.content as Array<{ text?: string }>).map((c) => c.text ?? "").join("");
  say(`▶ ${name} ${JSON.stringify(args)}: ${why} (${ms} ms${r.isError ? ", error" : ""})`);
  say(`  ${text.length > 700 ? `${text.slice(0, 700)}… (${text.length} bytes)` : text}\n`);
}
await client.close();
await sim.stop();
say(
  "Done. Run your own: `talos-mcp sim` prints a talosconfig; point an MCP client at dist/talos-mcp with TALOSCONFIG set.",
);
