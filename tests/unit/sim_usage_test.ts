/** @module Each simulated node reports its own load, memory and disk figures, the same on every run. */
import { describe, expect, test } from "bun:test";
import { usageOf } from "../../lib/sim/handlers/stats.ts";
import { SimCluster } from "../../lib/sim/model.ts";

describe("simulated usage figures", () => {
  test("differ between nodes and are deterministic", () => {
    const a = new SimCluster({ controlPlanes: 3, workers: 2 }).nodes.map(usageOf);
    const b = new SimCluster({ controlPlanes: 3, workers: 2 }).nodes.map(usageOf);
    expect(a).toEqual(b);
    for (const key of ["load1", "memUsed", "varUsed", "uptimeSeconds"] as const) {
      expect(new Set(a.map((u) => u[key])).size).toBe(a.length);
    }
    for (const u of a) {
      expect(u.memUsed).toBeLessThan(1);
      expect(u.varUsed).toBeLessThan(1);
      expect(u.load1).toBeGreaterThan(0);
    }
  });

  test("a node's own usage overrides the defaults", () => {
    const node = new SimCluster({}).nodes[1];
    node.usage = { load1: 9.5 };
    expect(usageOf(node)).toMatchObject({ load1: 9.5, memUsed: 0.45 });
  });
});
