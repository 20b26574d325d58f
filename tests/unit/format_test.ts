/** @module The global output cap: what is cut, and how `truncated` reports it. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fitToCap, okResult } from "../../lib/format.ts";

describe("output cap", () => {
  test("a result under the cap is untouched", () => {
    const r = okResult({ nodes: [{ node: "a", x: 1 }] }, 65536);
    expect(r.structuredContent).toEqual({ nodes: [{ node: "a", x: 1 }] });
    expect(r.content[0].text).toBe('{"nodes":[{"node":"a","x":1}]}');
  });

  test("the largest list loses items from its end and the cut is reported", () => {
    const big = { nodes: [{ node: "a", items: Array.from({ length: 5000 }, (_, i) => ({ i, s: "x".repeat(20) })) }] };
    const r = okResult(big, 8192);
    expect(Buffer.byteLength(r.content[0].text)).toBeLessThanOrEqual(8192);
    const t = r.structuredContent!.truncated as { dropped: Record<string, number> };
    const kept = (r.structuredContent!.nodes as any[])[0].items.length;
    expect(t.dropped["nodes[].items"]).toBe(5000 - kept);
    expect((r.structuredContent!.nodes as any[])[0].items[0].i).toBe(0);
  });

  test("property: any JSON value ends up within the cap", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 1024, max: 4096 }), (v, cap) => {
        const value = { v } as Record<string, unknown>;
        const r = okResult(value, cap);
        expect(Buffer.byteLength(r.content[0].text)).toBeLessThanOrEqual(cap);
      }),
      { numRuns: 300 },
    );
  });

  test("fitToCap reports nothing when nothing was cut", () => {
    expect(fitToCap({ a: [1, 2, 3] }, 4096)).toBeUndefined();
  });
});

describe("output cap: one big string", () => {
  test("a file's content in a one-node result is cut, the node entry stays", () => {
    const value = { nodes: [{ node: "a", size: 1 << 20, content: "x".repeat(1 << 20) }] };
    const r = okResult(value, 8192);
    expect(Buffer.byteLength(r.content[0].text)).toBeLessThanOrEqual(8192);
    const n = (r.structuredContent!.nodes as any[])[0];
    expect(n.node).toBe("a");
    expect(n.content.endsWith("…[cut]")).toBe(true);
    expect((r.structuredContent!.truncated as any).dropped["nodes[].content (characters)"]).toBeGreaterThan(0);
  });
});
