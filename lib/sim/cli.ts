/** @module `talos-mcp sim`: run the simulated cluster until interrupted. */
import { parseArgs } from "node:util";
import { startSim } from "./mod.ts";
import { FAULT_KINDS, plantFault } from "./scenarios.ts";

const HELP = `talos-mcp sim: a simulated Talos cluster on 127.0.0.1 (real gRPC, mTLS, apid-style routing)

Options:
  --control-planes N   control-plane nodes (default 3)
  --workers N          worker nodes (default 1)
  --endpoints N        control planes that also listen as endpoints (default 1)
  --port P             port of the first endpoint (default: any free port)
  --dir DIR            where to write the talosconfig (default: a temp dir)
  --version TAG        Talos version of every node (default v1.13.9)
  --down IP            start with this node unreachable (repeatable)
  --fault NODE:KIND    plant a fault on a node (repeatable), e.g. --fault 10.5.0.3:ephemeral-full
  --client-cert-days N days until the talosconfig's client certificates expire (default 365)

Fault kinds:
${Object.entries(FAULT_KINDS).map(([k, f]) => `  ${k.padEnd(24)} ${f.about}`).join("\n")}

Prints the talosconfig path; use it with TALOSCONFIG=<path> talos-mcp (or talosctl).`;

export async function runSimCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        "control-planes": { type: "string" },
        workers: { type: "string" },
        endpoints: { type: "string" },
        port: { type: "string" },
        dir: { type: "string" },
        version: { type: "string" },
        down: { type: "string", multiple: true },
        fault: { type: "string", multiple: true },
        "client-cert-days": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`talos-mcp sim: ${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const num = (s: string | undefined, name: string, max: number) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`--${name} must be a whole number from 0 to ${max}`);
    return n;
  };
  let sim;
  try {
    sim = await startSim({
      controlPlanes: num(values["control-planes"], "control-planes", 9) ?? 3,
      workers: num(values.workers, "workers", 50),
      endpoints: num(values.endpoints, "endpoints", 9),
      port: num(values.port, "port", 65535),
      dir: values.dir,
      version: values.version,
      clientCertDays: num(values["client-cert-days"], "client-cert-days", 3650),
    });
    for (const f of values.fault ?? []) {
      const i = f.lastIndexOf(":");
      if (i < 0) throw new Error(`--fault ${f}: expected NODE:KIND`);
      plantFault(sim.cluster, f.slice(0, i), f.slice(i + 1));
    }
  } catch (err) {
    await sim?.stop();
    process.stderr.write(`talos-mcp sim: ${(err as Error).message}\n`);
    return 2;
  }
  for (const ip of values.down ?? []) {
    const node = sim.cluster.find(ip);
    if (node) node.faults.down = true;
  }
  process.stdout.write(`${sim.talosconfig}\n`);
  process.stderr.write(
    `simulated cluster "${sim.cluster.name}": ${sim.cluster.nodes.map((n) => `${n.hostname} ${n.ip}`).join(", ")}\n` +
      `endpoints: ${sim.endpoints.map((e) => `127.0.0.1:${e.port}`).join(", ")}\n` +
      `contexts: sim (os:admin), sim-operator, sim-reader. Ctrl-C stops it.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await sim.stop();
  return 0;
}
