/**
 * @module talos_validate through the binary: the simulator's own config of every node is valid
 * (by path and inline, strict), each broken config gives exactly its issue with its path, no
 * secret of the input comes back, bad arguments are refused with what to do, and no RPC is sent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Harness, ok, spawnHarness, text } from "../harness.ts";
import { BROKEN_CASES, docsOf, PLANTED_SECRET } from "../validate_cases.ts";

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await spawnHarness();
  dir = join(h.sim.dir, "validate");
  mkdirSync(dir);
});
afterAll(async () => {
  await h?.close();
});

const clean = { valid: true, errors: [], warnings: [] };

describe("talos_validate", () => {
  test("every node's own config is valid, by path and inline, strict, and no RPC is sent", async () => {
    const before = h.sim.calls.length;
    expect(h.sim.cluster.nodes.length).toBeGreaterThan(1);
    for (const node of h.sim.cluster.nodes) {
      const path = join(dir, `${node.hostname}.yaml`);
      writeFileSync(path, node.machineConfig);
      expect(ok(await h.call("talos_validate", { path, strict: true }))).toEqual(clean);
      expect(ok(await h.call("talos_validate", { config: node.machineConfig, strict: true }))).toEqual(clean);
    }
    expect(h.sim.calls.length).toBe(before);
  });

  for (const c of BROKEN_CASES) {
    test(`${c.name}: exactly the expected issue, no secret echoed`, async () => {
      const valid = h.sim.cluster.nodes[0].machineConfig;
      const config = c.make(valid);
      const r = await h.call("talos_validate", { config, mode: c.mode ?? "metal", strict: c.strict ?? false });
      const v = ok(r);
      const shape = (list: Array<{ document: number; kind: string; path: string }>) =>
        list.map(({ document, kind, path }) => ({ document, kind, path }));
      expect(shape(v.errors)).toEqual(shape(c.errors));
      expect(shape(v.warnings)).toEqual(shape(c.warnings));
      v.errors.forEach((e: { message: string }, i: number) => expect(e.message).toContain(c.errors[i].says));
      v.warnings.forEach((w: { message: string }, i: number) => expect(w.message).toContain(c.warnings[i].says));
      expect(v.valid).toBe(c.errors.length === 0);
      // The machine token and CA key of the input, and the planted token, never come back.
      const { machine } = docsOf(valid)[0];
      const out = text(r) + JSON.stringify(r.structuredContent);
      expect(out).not.toContain(PLANTED_SECRET);
      expect(out).not.toContain(machine.token);
      expect(out).not.toContain(machine.ca.key.slice(0, 40));
    });
  }

  test("the same broken config by path gives the same result as inline", async () => {
    const c = BROKEN_CASES.find((x) => x.name === "endpoint without port")!;
    const config = c.make(h.sim.cluster.nodes[0].machineConfig);
    const path = join(dir, "broken.yaml");
    writeFileSync(path, config);
    expect(ok(await h.call("talos_validate", { path }))).toEqual(ok(await h.call("talos_validate", { config })));
  });

  test("bad arguments are refused with what to do", async () => {
    const refused = async (args: Record<string, unknown>, says: string) => {
      const r = await h.call("talos_validate", args);
      expect(r.isError).toBe(true);
      expect(text(r)).toContain(says);
    };
    await refused({}, "Give exactly one of config (the text) or path");
    await refused({ config: "version: v1alpha1", path: "/tmp/x.yaml" }, "Give exactly one of config");
    await refused({ path: "relative/config.yaml" }, 'path must be an absolute path, got "relative/config.yaml"');
    await refused({ path: join(dir, "missing.yaml") }, "missing.yaml does not exist; check the path");
    await refused({ path: dir }, "is not a regular file; name a file");
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]); // opening it would block: it must be refused before that
    await refused({ path: fifo }, "is not a regular file; name a file");
    const big = join(dir, "big.yaml");
    writeFileSync(big, `# ${"x".repeat(1 << 20)}\n`);
    await refused({ path: big }, "over the 1048576-byte limit");
    await refused({ config: "x".repeat((1 << 20) + 1) }, "config is at most 1 MiB");
    await refused({ config: "version: v1alpha1", mode: "bare-metal" }, "mode");
  });
});
