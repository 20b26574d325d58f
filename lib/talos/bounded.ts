/**
 * @module Bounded reading of Talos byte streams (`common.Data` chunks): at most
 * N bytes, or the last N (matching) lines in a ring buffer. Memory never grows
 * with the stream; returning early from the loop cancels the gRPC call.
 */

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
    const b = chunk.bytes;
    if (!b?.length) continue;
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
  /** Keep the last this many lines (that match `grep`). */
  lines: number;
  /** Only lines matching this are kept; applied before the tail is cut. */
  grep?: RegExp;
  /** Longer lines are cut to this many bytes (a log line without newline must not grow forever). */
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
}

const CUT = "…[line cut]";

/**
 * The last `lines` lines of a byte stream, split on `\n` across chunk
 * boundaries. Holds at most `lines` lines of at most `maxLineBytes` each.
 */
export async function tailLines(stream: AsyncIterable<DataChunk>, opts: TailOptions): Promise<Tail> {
  const max = opts.maxLineBytes ?? 2048;
  const ring: string[] = new Array(opts.lines);
  let next = 0;
  const out: Tail = { lines: [], scanned: 0, matched: 0, cutLines: 0 };
  let pending: Buffer[] = [];
  let pendingSize = 0;
  let overflow = false;

  const finish = () => {
    const buf = Buffer.concat(pending, Math.min(pendingSize, max));
    pending = [];
    pendingSize = 0;
    // A cut may split a multi-byte character; the decoder's replacement char marks it.
    let line = buf.toString("utf8");
    if (line.endsWith("\r")) line = line.slice(0, -1);
    out.scanned++;
    if (overflow) out.cutLines++;
    if (opts.grep && !opts.grep.test(line)) {
      overflow = false;
      return;
    }
    if (overflow) line += CUT;
    overflow = false;
    out.matched++;
    if (opts.lines > 0) {
      ring[next % opts.lines] = line;
      next++;
    }
  };
  const add = (b: Uint8Array) => {
    const room = max - pendingSize;
    if (b.length > room) {
      overflow = true;
      if (room > 0) pending.push(Buffer.from(b.subarray(0, room)));
      pendingSize = max;
    } else {
      pending.push(Buffer.from(b));
      pendingSize += b.length;
    }
  };

  for await (const chunk of stream) {
    const b = chunk.bytes;
    if (!b?.length) continue;
    let start = 0;
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, start)) {
      add(b.subarray(start, i));
      finish();
      start = i + 1;
    }
    if (start < b.length) add(b.subarray(start));
    if (opts.framePerLine && pendingSize > 0) finish();
  }
  if (pendingSize > 0 || overflow) finish();

  const kept = Math.min(next, opts.lines);
  for (let i = next - kept; i < next; i++) {
    const line = ring[i % opts.lines];
    out.lines.push(opts.map ? opts.map(line) : line);
  }
  return out;
}
