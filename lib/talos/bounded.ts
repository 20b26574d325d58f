/**
 * @module Bounded reading of Talos byte streams (`common.Data` chunks): at most
 * N bytes, or the last N (matching) lines in a ring buffer. Memory never grows
 * with the stream; returning early from the loop cancels the gRPC call.
 */
import { StringDecoder } from "node:string_decoder";
import type { LineFilter } from "../grep.ts";

/** One frame of a byte stream (Logs, Dmesg, Read, ...). */
export interface DataChunk {
  bytes?: Uint8Array | null;
}

export interface BytesRead {
  data: Buffer;
  /** The stream had more than `max` bytes; reading stopped (and the call was cancelled). */
  truncated: boolean;
}

/** Collects up to `max` bytes, then stops the stream. */
export async function readBytes(stream: AsyncIterable<DataChunk>, max: number): Promise<BytesRead> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    if (!chunk.bytes?.length) continue;
    const b = Buffer.isBuffer(chunk.bytes)
      ? chunk.bytes
      : Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.length);
    const room = max - size;
    if (b.length > room) {
      if (room > 0) parts.push(Buffer.from(b.subarray(0, room)));
      return { data: Buffer.concat(parts), truncated: true }; // leaving the loop cancels the call
    }
    parts.push(Buffer.from(b));
    size += b.length;
  }
  return { data: Buffer.concat(parts), truncated: false };
}

export interface TailOptions {
  /** Keep the last this many lines (that match `grep`); -1: as many of the newest as fit in `maxBytes`. */
  lines: number;
  /** With lines -1: the bytes the kept lines may take together (older lines are dropped first). */
  maxBytes?: number;
  /** Only lines matching this are kept; applied before the tail is cut. */
  grep?: LineFilter;
  /** Longer lines are cut to this many characters (a log line without newline must not grow forever). */
  maxLineBytes?: number;
  /** Each frame is one whole record (Dmesg) rather than a slice of a byte stream (Logs). */
  framePerLine?: boolean;
  /** Applied to each kept line (secret masking). */
  map?: (line: string) => string;
}

export interface Tail {
  lines: string[];
  /** Lines read from the stream. */
  scanned: number;
  /** Lines that matched `grep` (all lines without grep). */
  matched: number;
  /** Lines that were longer than maxLineBytes and were cut. */
  cutLines: number;
  /** Matching lines left out, oldest first, to stay within `maxBytes` (lines -1). */
  omitted: number;
}

const CUT = "…[line cut]";

/** Growth of the process' RSS while scanning a stream that triggers a collection. */
const GC_BUDGET = 8 << 20;

/**
 * Scanning a long stream (a 200 MiB log through grep) makes garbage (gRPC
 * frames, decoded messages, line strings) faster than the runtime's own GC
 * schedule collects it: RSS climbs ~50 MiB although almost nothing is kept.
 * Checked every 256 chunks (cheap), a full collection once RSS grew by
 * GC_BUDGET keeps the peak near what is actually held.
 */
function gcGuard(): () => void {
  const gc = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun?.gc;
  if (!gc) return () => {};
  let floor = process.memoryUsage.rss();
  let n = 0;
  return () => {
    if (++n % 256 !== 0 || process.memoryUsage.rss() - floor < GC_BUDGET) return;
    gc(true);
    floor = process.memoryUsage.rss();
  };
}

/**
 * The last `lines` lines of a byte stream, split on `\n` across chunk
 * boundaries. Holds at most `lines` lines of at most `maxLineBytes` characters
 * each. Each chunk is decoded once and lines are slices of it: a 200 MiB log
 * makes millions of lines, and per-line buffers would be most of the garbage.
 */
export async function tailLines(stream: AsyncIterable<DataChunk>, opts: TailOptions): Promise<Tail> {
  const max = opts.maxLineBytes ?? 2048;
  const keep = opts.lines < 0 ? byteWindow(opts.maxBytes ?? 64 * 1024) : lineRing(opts.lines);
  const out: Tail = { lines: [], scanned: 0, matched: 0, cutLines: 0, omitted: 0 };
  const decoder = new StringDecoder("utf8"); // keeps a multi-byte character split across chunks whole
  let pending = "";
  let overflow = false;
  const collect = gcGuard();

  const add = (s: string) => {
    if (pending.length + s.length > max) {
      overflow = true;
      pending += s.slice(0, Math.max(0, max - pending.length));
    } else pending += s;
  };
  const finish = () => {
    let line = pending.endsWith("\r") ? pending.slice(0, -1) : pending;
    const cut = overflow;
    pending = "";
    overflow = false;
    out.scanned++;
    if (cut) out.cutLines++;
    if (opts.grep && !opts.grep.test(line)) return;
    if (cut) line += CUT;
    out.matched++;
    keep.push(line);
  };

  for await (const chunk of stream) {
    if (!chunk.bytes?.length) continue;
    collect();
    const text = decoder.write(chunk.bytes as Buffer);
    let start = 0;
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", start)) {
      add(text.slice(start, i));
      finish();
      start = i + 1;
    }
    if (start < text.length) add(text.slice(start));
    if (opts.framePerLine && (pending || overflow)) finish();
  }
  const rest = decoder.end();
  if (rest) add(rest);
  if (pending || overflow) finish();

  const kept = keep.lines();
  out.omitted = out.matched - kept.length;
  out.lines = opts.map ? kept.map(opts.map) : kept;
  return out;
}

interface Keeper {
  push(line: string): void;
  /** The kept lines, oldest first. */
  lines(): string[];
}

/** The last `n` lines, in a fixed ring. */
function lineRing(n: number): Keeper {
  const ring: string[] = new Array(Math.max(0, n));
  let next = 0;
  return {
    push: (line) => {
      if (n > 0) ring[next++ % n] = line;
    },
    lines: () => {
      const kept = Math.min(next, n);
      const out: string[] = [];
      for (let i = next - kept; i < next; i++) out.push(ring[i % n]);
      return out;
    },
  };
}

/** The newest lines whose JSON form fits in `budget` bytes: the whole log, bounded by the output cap. */
function byteWindow(budget: number): Keeper {
  let held: string[] = [];
  // Each held line's size, measured once when it comes in (a log may push millions of lines).
  let sizes: number[] = [];
  let head = 0;
  let bytes = 0;
  return {
    push: (line) => {
      // A line's share of the result: its UTF-8 bytes, quotes and comma (escapes are rare in logs; the output
      // cap still stands behind this).
      const size = Buffer.byteLength(line) + 3;
      held.push(line);
      sizes.push(size);
      bytes += size;
      while (bytes > budget && head < held.length) bytes -= sizes[head++];
      // Compact now and then so dropped lines can be collected.
      if (head > 4096 && head * 2 > held.length) {
        held = held.slice(head);
        sizes = sizes.slice(head);
        head = 0;
      }
    },
    lines: () => held.slice(head),
  };
}
