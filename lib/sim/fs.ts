/**
 * @module The simulated nodes' filesystem: a few realistic files plus
 * generated ones of any size (content produced chunk by chunk, so a 200 MiB
 * file costs no memory in the simulator either).
 */
import type { SimNode } from "./model.ts";

export interface SimFile {
  /** Go os.FileMode bits (TALOS_API.md §5.7): permissions, plus type bits for dirs/links. */
  mode: number;
  /** Modification time, Unix seconds. */
  mtime: number;
  /** Regular file content, or a generator of `size` bytes. */
  content?: string | { size: number; chunk: (offset: number, length: number) => Uint8Array };
  /** Symlink target. */
  link?: string;
}

/** Go FileMode type bits. */
export const MODE_DIR = 0x80000000;
export const MODE_SYMLINK = 0x08000000;

const T0 = 1_763_769_600; // 2025-11-22, a fixed "install time" so listings are stable

/** The files of `node`, by absolute path; directories implied by paths are listed too. */
export function nodeFiles(node: SimNode): Map<string, SimFile> {
  const files = new Map<string, SimFile>([
    ["/etc/hostname", { mode: 0o644, mtime: T0, content: `${node.hostname}\n` }],
    ["/etc/os-release", {
      mode: 0o644,
      mtime: T0,
      content: `NAME="Talos"\nID=talos\nVERSION_ID=${node.version}\nPRETTY_NAME="Talos (${node.version})"\n`,
    }],
    ["/etc/resolv.conf", { mode: 0o644, mtime: T0, content: "nameserver 10.5.0.1\n" }],
    ["/proc/sys/kernel/random/boot_id", { mode: 0o444, mtime: T0, content: `${node.bootId}\n` }],
    ["/proc/loadavg", { mode: 0o444, mtime: T0, content: "0.42 0.37 0.31 2/412 4242\n" }],
  ]);
  for (const [path, file] of node.extraFiles ?? []) files.set(path, file);
  return files;
}
