/**
 * @module talos_talosconfig_issue against the simulator: the issued talosconfig is a 0600 file whose
 * certificate carries exactly the asked role and lifetime; a server started with a reader one answers
 * talos_version and cannot reboot (refused by role, nothing sent); the key never reaches the result.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { certInfo } from "../../lib/talos/talosconfig.ts";
import { callsSince, type Harness, inMemoryHarness, ok, spawnHarness, text } from "../harness.ts";

let sim: Sim;
let h: Harness;
let out: string;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 1, workers: 1 });
  h = await inMemoryHarness({ simInstance: sim });
  out = join(sim.dir, "out");
  mkdirSync(out);
});
afterAll(async () => {
  await h?.close();
  await sim?.stop();
});

const contextOf = (path: string) => {
  const doc = parse(readFileSync(path, "utf8"));
  return { name: doc.context as string, ctx: doc.contexts[doc.context] };
};

describe("talos_talosconfig_issue", () => {
  test("a reader talosconfig by default: 0600, 24h, the role in the certificate, no key in the result", async () => {
    const path = join(out, "reader.yaml");
    const r = await h.call("talos_talosconfig_issue", { path });
    const v = ok(r);
    expect(v).toMatchObject({ path, role: "os:reader", context: "reader@sim", node: "10.5.0.2" });
    expect(v.endpoints).toEqual(sim.endpoints.map((e) => `127.0.0.1:${e.port}`));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const { name, ctx } = contextOf(path);
    expect(name).toBe("reader@sim");
    expect(ctx.endpoints).toEqual(v.endpoints);
    const cert = certInfo(Buffer.from(ctx.crt, "base64").toString());
    expect(cert.roles).toEqual(["os:reader"]);
    expect(v.expires).toBe(cert.notAfter.toISOString());
    const hours = (cert.notAfter.getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
    const key = Buffer.from(ctx.key, "base64").toString();
    expect(key).toContain("PRIVATE KEY");
    expect(text(r)).not.toContain(ctx.key);
    expect(text(r)).not.toContain("PRIVATE KEY");
  });

  test("the issued reader talosconfig works, and cannot reboot: refused by role, nothing sent", async () => {
    const path = join(out, "reader-2.yaml");
    ok(await h.call("talos_talosconfig_issue", { path, lifetime: "1h" }));
    const reader = await spawnHarness({ simInstance: sim, env: { TALOSCONFIG: path } });
    try {
      const version = ok(await reader.call("talos_version", { nodes: ["10.5.0.2"] }));
      expect(version.nodes[0].node).toBe("10.5.0.2");
      expect(version.nodes[0].error).toBeUndefined();
      const calls = callsSince(sim);
      const r = await reader.call("talos_reboot", { nodes: ["10.5.0.3"], confirm: true });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("os:operator");
      expect(calls("Reboot")).toEqual([]);
      // The simulator saw the reader's certificate on the call that went through.
      expect(sim.callsTo("Version").at(-1)!.roles).toEqual(["os:reader"]);
    } finally {
      await reader.close();
    }
  });

  test("another role and lifetime; too long a lifetime, a bad one, or an existing file is refused before any RPC", async () => {
    const path = join(out, "operator.yaml");
    const v = ok(await h.call("talos_talosconfig_issue", { path, role: "os:operator", lifetime: "2h" }));
    expect(v.context).toBe("operator@sim");
    expect(certInfo(Buffer.from(contextOf(path).ctx.crt, "base64").toString()).roles).toEqual(["os:operator"]);
    const calls = callsSince(sim);
    const long = await h.call("talos_talosconfig_issue", { path: join(out, "x.yaml"), lifetime: "100000h" });
    expect(text(long)).toContain("outlives the cluster CA");
    const bad = await h.call("talos_talosconfig_issue", { path: join(out, "y.yaml"), lifetime: "tomorrow" });
    expect(text(bad)).toContain('lifetime "tomorrow" is not a positive duration');
    const exists = await h.call("talos_talosconfig_issue", { path });
    expect(text(exists)).toContain("pass overwrite: true");
    expect(calls("GenerateClientConfiguration")).toEqual([]);
    expect(existsSync(join(out, "x.yaml"))).toBe(false);
  });

  test("needs os:admin: an operator context is refused by role", async () => {
    const calls = callsSince(sim);
    const r = await h.call("talos_talosconfig_issue", { context: "sim-operator", path: join(out, "z.yaml") });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("os:admin");
    expect(calls("GenerateClientConfiguration")).toEqual([]);
  });
});
