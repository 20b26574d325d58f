/** @module MonotonicProgress: what the server sends for the counts tools report. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { MonotonicProgress } from "../../lib/progress.ts";

describe("MonotonicProgress", () => {
  test("new counts pass as they are; repeats become fractions towards the next step", () => {
    const p = new MonotonicProgress();
    expect([0, 0, 0, 1, 1, 2].map((n) => p.next(n, 2))).toEqual([0, 0.5, 2 / 3, 1, 1.5, 2]);
  });

  test("nothing past the total, nothing that would go back", () => {
    const p = new MonotonicProgress();
    expect(p.next(2, 2)).toBe(2);
    expect(p.next(2, 2)).toBeUndefined(); // 2.5 would pass the total
    expect(p.next(1, 2)).toBeUndefined();
  });

  test("whatever tools report, what is sent strictly increases and stays within the total", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 200 }), (counts) => {
      const p = new MonotonicProgress();
      const sent = counts.map((c) => p.next(c, 10)).filter((v): v is number => v !== undefined);
      for (let i = 1; i < sent.length; i++) expect(sent[i]).toBeGreaterThan(sent[i - 1]);
      for (const v of sent) expect(v).toBeLessThanOrEqual(10);
    }));
  });
});
