/**
 * @module Hostile arguments for every tool, through the binary: wrong types, huge
 * strings, unknown keys. Each call gets a result (never a crash, never a
 * hang), and the process still answers afterwards.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { type Harness, spawnHarness, text } from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await spawnHarness({ sim: { controlPlanes: 1, workers: 1 } });
});
afterAll(() => h?.close());

const junk = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.string({ minLength: 70_000, maxLength: 70_010 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 300 }), { maxLength: 100 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

test("every tool answers hostile arguments with a result, and the server survives", async () => {
  const { tools } = await h.client.listTools();
  const names = tools.map((t) => t.name);
  const keysOf = Object.fromEntries(tools.map((t) => [t.name, Object.keys(t.inputSchema.properties ?? {})]));
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...names),
      fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("nodes", "context", "x")), junk), {
        maxLength: 4,
      }),
      fc.boolean(),
      async (name, pairs, useRealKeys) => {
        const keys = keysOf[name];
        const args = Object.fromEntries(
          pairs.map(([k, v], i) => [useRealKeys && keys.length ? keys[i % keys.length] : k, v]),
        );
        const r = await h.call(name, args);
        expect(Array.isArray(r.content)).toBe(true);
        if (r.isError) expect(text(r).length).toBeGreaterThan(10);
        expect(text(r).length).toBeLessThan(80_000);
      },
    ),
    { numRuns: 150, seed: 20261122 },
  );
  const alive = await h.call("talos_version", { nodes: ["10.5.0.2"] });
  expect(alive.isError).toBeFalsy();
}, 120_000);

test("argument errors say what was wrong and which keys exist", async () => {
  const typo = await h.call("talos_version", { node: "10.5.0.2" });
  expect(typo.isError).toBe(true);
  expect(text(typo)).toContain('unknown argument "node"');
  expect(text(typo)).toContain("nodes");
  const wrongType = await h.call("talos_get", { resource_type: 42 });
  expect(text(wrongType)).toContain("resource_type");
  const badNode = await h.call("talos_version", { nodes: ["10.5.0.2:50000"] });
  expect(text(badNode)).toContain("without a port");
  const before = h.sim.calls.length;
  await h.call("talos_version", { nodes: "10.5.0.2" });
  expect(h.sim.calls.length).toBe(before); // rejected before any RPC
});
