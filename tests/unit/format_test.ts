/** @module The global output cap: exact bounds, what is cut, and how `truncated` reports it. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CUT_MARK } from "../../lib/fit.ts";
import { fitToCap, okResult } from "../../lib/format.ts";

/** What the model reads of a call result: its JSON text (structuredContent is the same value). */
const sent = (r: ReturnType<typeof okResult>) => Buffer.byteLength(r.content[0].text, "utf8");
const clone = <T>(v: T): T => structuredClone(v);
const note = (r: ReturnType<typeof okResult>) =>
  r.structuredContent!.truncated as { output_cap: number; dropped: Record<string, number>; hint: string };

describe("output cap", () => {
  test("a result under the cap is untouched", () => {
    const r = okResult({ nodes: [{ node: "a", x: 1 }] }, 65536);
    expect(r.structuredContent).toEqual({ nodes: [{ node: "a", x: 1 }] });
    expect(r.content[0].text).toBe('{"nodes":[{"node":"a","x":1}]}');
  });

  test("a long list loses items from its end, and the count is reported", () => {
    const big = { nodes: [{ node: "a", items: Array.from({ length: 5000 }, (_, i) => ({ i, s: "x".repeat(20) })) }] };
    const r = okResult(big, 8192);
    expect(sent(r)).toBeLessThanOrEqual(8192);
    const kept = (r.structuredContent!.nodes as any[])[0].items;
    expect(note(r).dropped["nodes[].items"]).toBe(5000 - kept.length);
    expect(kept.map((x: { i: number }) => x.i)).toEqual(Array.from({ length: kept.length }, (_, i) => i));
    // Little is cut beyond what the cap demands: one more item (~45 bytes) would not fit.
    expect(sent(r)).toBeGreaterThan(8192 - 50);
  });

  test("fitToCap reports nothing when nothing was cut", () => {
    expect(fitToCap({ a: [1, 2, 3] }, 4096)).toBeUndefined();
  });

  test("a result without arrays (many long strings) is cut below the cap and says so", () => {
    const value: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) value[`field${i}`] = `${i}:` + "y".repeat(5000);
    const r = okResult(clone(value), 65536);
    expect(sent(r)).toBeLessThanOrEqual(65536);
    expect(Object.keys(r.structuredContent!)).toEqual([...Object.keys(value), "truncated"]);
    for (let i = 0; i < 20; i++) {
      const s = r.structuredContent![`field${i}`] as string;
      // Each string is cut to the same level, none erased.
      expect(s.startsWith(`${i}:yyy`)).toBe(true);
      expect(s.endsWith(CUT_MARK)).toBe(true);
    }
    // 16 places are named, the others counted.
    expect(Object.keys(note(r).dropped)).toHaveLength(17);
    expect(note(r).dropped["(4 more places)"]).toBe(4);
  });

  test("a resource whose spec is a map of 5,000 keys keeps the resource and part of its spec", () => {
    const spec = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`key-${i}`, `value number ${i}`]));
    const value = { nodes: [{ node: "10.5.0.2", resources: [{ metadata: { id: "big", version: 1 }, spec }] }] };
    const r = okResult(value, 65536);
    expect(sent(r)).toBeLessThanOrEqual(65536);
    const res = (r.structuredContent!.nodes as any[])[0].resources;
    expect(res).toHaveLength(1);
    expect(res[0].metadata).toEqual({ id: "big", version: 1 });
    const kept = Object.keys(res[0].spec).length;
    expect(kept).toBeGreaterThan(1000);
    expect(note(r).dropped).toEqual({ "nodes[].resources[].spec (keys)": 5000 - kept });
  });

  test("several nodes' bulk is cut evenly: no node loses everything for another's", () => {
    const lines = (n: string) => Array.from({ length: 3000 }, (_, i) => `${n} line ${i} ${"z".repeat(60)}`);
    const value = { nodes: ["a", "b", "c"].map((node) => ({ node, lines: lines(node) })) };
    const r = okResult(value, 32768);
    expect(sent(r)).toBeLessThanOrEqual(32768);
    const kept = (r.structuredContent!.nodes as any[]).map((n) => n.lines.length);
    expect(kept.every((k) => k > 30)).toBe(true);
    expect(Math.max(...kept) - Math.min(...kept)).toBeLessThanOrEqual(1);
    expect(note(r).dropped["nodes[].lines"]).toBe(9000 - kept.reduce((a, b) => a + b, 0));
  });

  test("a tool's own note is kept beside the cap's", () => {
    const value = {
      nodes: [{ node: "a", lines: Array(2000).fill("l".repeat(50)) }],
      truncated: { tool_limit: "x", ask: "y" },
    };
    const r = okResult(value, 4096);
    expect(sent(r)).toBeLessThanOrEqual(4096);
    expect(note(r)).toMatchObject({ tool_limit: "x", ask: "y", output_cap: 4096 });
  });
});

describe("output cap: one big string", () => {
  test("a file's content in a one-node result is cut, the node entry stays", () => {
    const value = { nodes: [{ node: "a", size: 1 << 20, content: "x".repeat(1 << 20) }] };
    const r = okResult(value, 8192);
    expect(sent(r)).toBeLessThanOrEqual(8192);
    const n = (r.structuredContent!.nodes as any[])[0];
    expect(n).toMatchObject({ node: "a", size: 1 << 20 });
    expect(n.content.endsWith(CUT_MARK)).toBe(true);
    expect(note(r).dropped["nodes[].content (characters)"]).toBe((1 << 20) - (n.content.length - CUT_MARK.length));
  });

  test("escapes and multi-byte characters are counted as sent, and surrogate pairs are not split", () => {
    const value = { text: 'é"\\\n\u0001😀'.repeat(5000) };
    const r = okResult(value, 4096);
    expect(sent(r)).toBeLessThanOrEqual(4096);
    const s = r.structuredContent!.text as string;
    expect(s.endsWith(CUT_MARK)).toBe(true);
    expect(JSON.stringify(s)).not.toMatch(/\\ud[89a-f]/i); // no lone surrogate
    expect('é"\\\n\u0001😀'.repeat(5000).startsWith(s.slice(0, -CUT_MARK.length))).toBe(true);
  });
});

// Values well above small caps, of the shapes tools return and worse.
const chars = fc.constantFrom("a", "b", " ", "é", '"', "\\", "\n", "\u0001", "😀", "中");
const longString = fc.tuple(fc.array(chars, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 400 }))
  .map(([cs, n]) => cs.join("").repeat(n));
const leaf = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 30 }), longString);
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("tree"), { maxLength: 12 }),
    fc.dictionary(fc.string({ maxLength: 12 }), tie("tree"), { maxKeys: 8 }),
  ),
}));
const bigMap = fc.dictionary(fc.string({ minLength: 1, maxLength: 16 }), leaf, { minKeys: 40, maxKeys: 400 });
const records = fc.array(fc.record({ id: fc.string(), state: fc.string({ maxLength: 10 }), n: fc.integer() }), {
  minLength: 5,
  maxLength: 400,
});
const deep = fc.integer({ min: 5, max: 60 }).chain((d) =>
  fc.array(fc.string({ minLength: 1, maxLength: 6 }), { minLength: d, maxLength: d })
    .map((keys) => keys.reduceRight<unknown>((inner, k) => ({ [k]: inner, pad: "p".repeat(50) }), "end"))
);
const payload = fc.oneof(tree, bigMap, records, deep, longString);
const result = fc.oneof(
  fc.record({
    nodes: fc.array(fc.record({ node: fc.ipV4(), data: payload, more: fc.option(fc.integer({ min: 1 })) }), {
      minLength: 1,
      maxLength: 6,
    }),
  }),
  fc.dictionary(fc.string({ maxLength: 10 }), payload, { minKeys: 1, maxKeys: 40 }),
  fc.record({ v: payload, truncated: fc.constant({ tool_limit: "listing stopped at limit=5", ask: "raise limit" }) }),
);

describe("output cap: property", () => {
  test("never above the cap; every cut is said; under the cap nothing changes", () => {
    let cut = 0;
    let runs = 0;
    fc.assert(
      fc.property(result, fc.integer({ min: 1024, max: 16384 }), (v, cap) => {
        runs++;
        const original = clone(v) as Record<string, unknown>;
        const before = Buffer.byteLength(JSON.stringify(original), "utf8");
        const r = okResult(v as Record<string, unknown>, cap);
        expect(sent(r)).toBeLessThanOrEqual(cap);
        expect(r.content[0].text).toBe(JSON.stringify(r.structuredContent));
        if (before <= cap) {
          expect(r.structuredContent).toEqual(original);
          return;
        }
        cut++;
        const t = note(r);
        expect(t.output_cap).toBe(cap);
        expect(Object.keys(t.dropped).length).toBeGreaterThan(0);
        if (original.truncated) expect(t).toMatchObject(original.truncated as object);
        // As little as possible is cut: the result uses a good part of the cap it was cut to.
        expect(sent(r)).toBeGreaterThan(cap / 2);
      }),
      {
        numRuns: 400,
        ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}),
      },
    );
    // The generators really reach the cutting code, most of the time.
    expect(cut).toBeGreaterThan(runs / 2);
  });
});
