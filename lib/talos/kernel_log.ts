/**
 * @module What the kernel log says is broken: OOM kills (which process), disk
 * I/O errors and filesystem errors (which device), from the newest records of
 * a node's ring buffer, read with a bound on records and time. Used by
 * talos_node_summary.
 */
import { tailLines } from "./bounded.ts";
import type { TalosSession } from "./session.ts";

/** How to read the kernel log: the newest `records`, within `deadline_ms`. */
export interface KernelRead {
  records: number;
  deadline_ms: number;
  signal: AbortSignal;
}

/**
 * The newest kernel records of `node`, oldest first. Dmesg is the one source every Talos version
 * serves (the `kernel` service log exists from 1.12 only); it cannot start at the last N records
 * (its `tail` skips the buffer), so the dump is read once, within the deadline, keeping a ring of
 * the newest. The kernel's own buffer size bounds the dump.
 */
export async function readKernelLog(s: TalosSession, node: string, r: KernelRead): Promise<string[]> {
  const signal = AbortSignal.any([r.signal, AbortSignal.timeout(r.deadline_ms)]);
  const dmesg = s.api.machine.Dmesg({ follow: false, tail: false }, { node, signal, timeoutMs: r.deadline_ms });
  return (await tailLines(dmesg, { lines: r.records, framePerLine: true, maxLineBytes: 512 })).lines;
}

/** One kind of trouble on one subject (a process, a device), with how often it was seen. */
export interface KernelFinding {
  kind: "oom" | "io" | "fs";
  /** The killed process (oom) or the device (io, fs). */
  subject: string;
  count: number;
  /** The newest matching record's text, for evidence. */
  last: string;
}

// "Out of memory: Killed process 48213 (java) ..." and "Memory cgroup out of memory: Killed process ...".
const OOM = /Killed process (\d+) \(([^)]*)\)/;
// The block layer's own reports: print_req_error / blk_update_request, buffer-head and SCSI sense errors.
const IO = [
  /\bI\/O error, dev ([\w.-]+)/,
  /Buffer I\/O error on dev(?:ice)? ([\w.-]+)/,
  /critical (?:medium|target|nexus|space allocation) error, dev ([\w.-]+)/,
];
// Filesystem errors, not the warnings every mount prints ("EXT4-fs (sda6): warning: mounting unchecked fs").
const FS = [
  /EXT[234]-fs error \(device ([\w.-]+)\)/,
  /BTRFS (?:error|critical) \(device ([\w.-]+)/,
  /XFS \(([\w.-]+)\): .*(?:[Cc]orrupt|metadata I\/O error|log I\/O error|[Ss]hutting down filesystem|force_shutdown)/,
];

/** The text of a Talos kernel record, without facility, priority and time. */
const textOf = (record: string) => record.replace(/^\S+:\s+\S+:\s+\[[^\]]*\]:\s*/, "");

/** Findings in kernel records, one per kind and subject, in the order first seen. */
export function kernelFindings(records: readonly string[]): KernelFinding[] {
  const found = new Map<string, KernelFinding>();
  const add = (kind: KernelFinding["kind"], subject: string, text: string) => {
    const key = `${kind}\0${subject}`;
    const f = found.get(key);
    if (f) [f.count, f.last] = [f.count + 1, text];
    else found.set(key, { kind, subject, count: 1, last: text });
  };
  for (const record of records) {
    const text = textOf(record);
    const oom = OOM.exec(text);
    if (oom) {
      add("oom", oom[2] || `pid ${oom[1]}`, text);
      continue;
    }
    const io = IO.map((re) => re.exec(text)).find(Boolean);
    if (io) {
      add("io", io[1], text);
      continue;
    }
    const fs = FS.map((re) => re.exec(text)).find(Boolean);
    if (fs) add("fs", fs[1], text);
  }
  return [...found.values()];
}
