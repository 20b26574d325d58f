/**
 * @module The connection layer through the binary: talosconfig problems, TLS trust,
 * expired certificates, unreachable endpoints, failover. Each failure is a
 * tool error an agent can act on; the server never dies.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { issue } from "../../lib/sim/x509.ts";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { entry, failed, ok, spawnHarness, text } from "../harness.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 1, workers: 1, endpoints: 1 });
});
afterAll(() => sim?.stop());

/** Writes a talosconfig derived from the simulator's, changed by `edit`. */
function variant(name: string, edit: (ctx: Record<string, any>) => void): string {
  const doc = parse(readFileSync(sim.talosconfig, "utf8"));
  edit(doc.contexts.sim);
  const path = join(sim.dir, name);
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  return path;
}

async function callWith(env: Record<string, string>, tool = "talos_version", args = {}) {
  const h = await spawnHarness({ simInstance: sim, env });
  try {
    const tools = await h.client.listTools();
    expect(tools.tools.length).toBeGreaterThanOrEqual(4); // the server is up whatever the talosconfig
    return await h.call(tool, args);
  } finally {
    await h.close();
  }
}

describe("talosconfig problems are tool errors naming the file", () => {
  test("missing file", async () => {
    const r = await callWith({ TALOSCONFIG: "/nonexistent/talosconfig" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("TALOSCONFIG=/nonexistent/talosconfig does not exist");
  });

  test("no file anywhere", async () => {
    const r = await callWith({ TALOSCONFIG: "", HOME: join(sim.dir, "empty-home") });
    expect(text(r)).toContain("No talosconfig found");
    expect(text(r)).toContain(".talos/config");
  });

  test("TALOS_HOME is honoured when TALOSCONFIG is unset", async () => {
    const r = await callWith({ TALOSCONFIG: "", TALOS_HOME: join(sim.dir, "nowhere") });
    expect(text(r)).toContain(join(sim.dir, "nowhere", "config"));
  });

  test("corrupt YAML", async () => {
    const path = join(sim.dir, "corrupt");
    writeFileSync(path, "context: [unclosed\n");
    const r = await callWith({ TALOSCONFIG: path });
    expect(text(r)).toContain(`talosconfig ${path} is not valid YAML`);
  });

  test("bad PEM in crt", async () => {
    const path = variant("badpem", (c) => (c.crt = Buffer.from("not a pem").toString("base64")));
    const r = await callWith({ TALOSCONFIG: path });
    expect(text(r)).toContain('Context "sim"');
    expect(text(r)).toContain("crt is not base64 of a PEM block");
  });

  test("unknown TALOS_CONTEXT lists the available ones", async () => {
    const r = await callWith({ TALOS_CONTEXT: "staging" });
    expect(text(r)).toContain('Context "staging" not found');
    expect(text(r)).toContain("sim, sim-operator, sim-reader");
  });
});

describe("TLS and certificates", () => {
  test("a talosconfig for another cluster's CA is refused by TLS, and said so", async () => {
    const otherCa = issue({ commonName: "talos", organizations: ["talos"], isCa: true });
    const path = variant("otherca", (c) => (c.ca = Buffer.from(otherCa.certPem).toString("base64")));
    const before = sim.calls.length;
    const r = await callWith({ TALOSCONFIG: path });
    const e = entry(failed(r), "10.5.0.2");
    expect(e.code).toBe("TLS");
    expect(e.error).toContain("do not trust each other");
    expect(sim.calls.length).toBe(before); // nothing reached the API
  });

  test("an expired client certificate is caught before dialing", async () => {
    const expired = issue({
      commonName: "admin",
      organizations: ["os:admin"],
      usage: "client",
      notBefore: new Date("2024-01-01"),
      notAfter: new Date("2025-01-01"),
    }, sim.pki.ca);
    const path = variant("expired", (c) => {
      c.crt = Buffer.from(expired.certPem).toString("base64");
      c.key = Buffer.from(expired.keyPem).toString("base64");
    });
    const before = sim.calls.length;
    const r = await callWith({ TALOSCONFIG: path });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("expired on 2025-01-01");
    expect(sim.calls.length).toBe(before);
  });

  test("an endpoint address missing from the server certificate fails verification", async () => {
    const odd = await startSim({ controlPlanes: 1, workers: 0, host: "127.0.0.2" });
    try {
      const h = await spawnHarness({ simInstance: odd });
      try {
        const e = entry(failed(await h.call("talos_version")), "10.5.0.2");
        expect(e.code).toBe("TLS");
        expect(e.error).toContain("does not name that address");
        expect(odd.calls).toHaveLength(0);
      } finally {
        await h.close();
      }
    } finally {
      await odd.stop();
    }
  });

  test("a DNS-name endpoint is verified by name", async () => {
    const r = await callWith({ TALOS_ENDPOINTS: `localhost:${sim.endpoints[0].port}` });
    expect(entry(ok(r), "10.5.0.2").tag).toBe("v1.13.9");
  });
});

describe("endpoints", () => {
  test("an unreachable endpoint is named with what to check", async () => {
    const r = await callWith({ TALOS_ENDPOINTS: "127.0.0.1:1" });
    const e = entry(failed(r), "10.5.0.2");
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.error).toContain("Cannot connect to Talos endpoint 127.0.0.1:1");
  });

  test("fails over to the next endpoint when the first is down", async () => {
    const r = await callWith({ TALOS_ENDPOINTS: `127.0.0.1:1,127.0.0.1:${sim.endpoints[0].port}` });
    expect(entry(ok(r), "10.5.0.3").tag).toBe("v1.13.9");
  });

  test("without nodes in the context, the endpoint is the target", async () => {
    const path = variant("nonodes", (c) => (c.nodes = []));
    const r = failed(await callWith({ TALOSCONFIG: path }));
    expect(r.nodes).toHaveLength(1);
    expect(r.nodes[0].node).toBe("127.0.0.1");
  });
});

describe("process", () => {
  test("--version and --help", () => {
    const { BIN } = require("../harness.ts");
    const v = Bun.spawnSync([BIN, "--version"]);
    expect(v.stdout.toString()).toMatch(/^talos-mcp \d+\.\d+\.\d+\S* \(commit \S+\)\n$/);
    const help = Bun.spawnSync([BIN, "--help"]);
    expect(help.stdout.toString()).toContain("talos-mcp sim");
    const bad = Bun.spawnSync([BIN, "--bogus"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain('unknown argument "--bogus"');
  });

  test("a bad setting stops the server with the variable named", () => {
    const { BIN } = require("../harness.ts");
    const r = Bun.spawnSync([BIN], { env: { TALOS_MCP_MAX_OUTPUT: "lots" }, stdin: "ignore" });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toContain("TALOS_MCP_MAX_OUTPUT=lots");
    expect(r.stdout.toString()).toBe("");
  });

  test("an unknown log level stops the server, naming the levels", () => {
    const { BIN } = require("../harness.ts");
    const r = Bun.spawnSync([BIN], { env: { TALOS_MCP_LOG_LEVEL: "verbose" }, stdin: "ignore" });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toContain("TALOS_MCP_LOG_LEVEL=verbose is not a log level: use one of debug, info");
    expect(r.stdout.toString()).toBe("");
  });
});
