/** @module Bounded stream reading: lines split across chunks, grep before the tail, caps, and early cancellation. */
import { describe, expect, test } from "bun:test";
import { readBytes, tailLines } from "../../lib/talos/bounded.ts";

/** A stream of `text` in chunks of `size` bytes that records how far it was consumed and whether it was closed. */
function chunked(text: string | Buffer, size: number) {
  const data = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const state = { pulled: 0, closed: false };
  async function* gen() {
    try {
      for (let off = 0; off < data.length; off += size) {
        state.pulled++;
        yield { bytes: data.subarray(off, off + size) };
      }
    } finally {
      state.closed = true;
    }
  }
  return { stream: gen(), state };
}

describe("tailLines", () => {
  test("keeps the last N lines, whatever the chunk boundaries", async () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i} ünïcode`).join("\n") + "\n";
    for (const size of [1, 3, 7, 1024]) {
      const t = await tailLines(chunked(text, size).stream, { lines: 3 });
      expect(t.lines).toEqual(["line 47 ünïcode", "line 48 ünïcode", "line 49 ünïcode"]);
      expect(t.scanned).toBe(50);
    }
  });

  test("grep applies before the tail is cut, and counts matches", async () => {
    const text = Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? `ERROR ${i}` : `ok ${i}`)).join("\n");
    const t = await tailLines(chunked(text, 5).stream, { lines: 2, grep: /error/i });
    expect(t.lines).toEqual(["ERROR 80", "ERROR 90"]);
    expect(t.matched).toBe(10);
    expect(t.scanned).toBe(100);
  });

  test("a last line without newline counts; CRLF is trimmed", async () => {
    const t = await tailLines(chunked("a\r\nb\r\nc", 2).stream, { lines: 5 });
    expect(t.lines).toEqual(["a", "b", "c"]);
  });

  test("an endless line is cut at maxLineBytes, so memory stays bounded", async () => {
    const t = await tailLines(chunked("x".repeat(1 << 20) + "\nshort\n", 1024).stream, {
      lines: 5,
      maxLineBytes: 100,
    });
    expect(t.lines[0]).toBe("x".repeat(100) + "…[line cut]");
    expect(t.lines[1]).toBe("short");
    expect(t.cutLines).toBe(1);
  });

  test("frame-per-line streams (Dmesg) end a line at each frame", async () => {
    async function* frames() {
      for (const r of ["kern: info: one", "kern: err: two", "kern: info: three"]) yield { bytes: Buffer.from(r) };
    }
    const t = await tailLines(frames(), { lines: 2, framePerLine: true, map: (l) => l.toUpperCase() });
    expect(t.lines).toEqual(["KERN: ERR: TWO", "KERN: INFO: THREE"]);
  });
});

describe("readBytes", () => {
  test("stops at max and closes the stream instead of draining it", async () => {
    const { stream, state } = chunked(Buffer.alloc(10 << 20, 65), 1024);
    const r = await readBytes(stream, 4000);
    expect(r.data.length).toBe(4000);
    expect(r.truncated).toBe(true);
    expect(state.pulled).toBe(4); // 3 whole chunks + the one that crossed the bound
    expect(state.closed).toBe(true);
  });

  test("a stream that fits exactly is not truncated", async () => {
    const r = await readBytes(chunked("abcdef", 2).stream, 6);
    expect(r.data.toString()).toBe("abcdef");
    expect(r.truncated).toBe(false);
  });
});
