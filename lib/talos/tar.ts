/** @module Reads one file from a (gzip) tar archive: enough for the Kubeconfig RPC's payload
 * (a gzip tar holding one file, `kubeconfig`); writes a gzip ustar archive of regular files
 * (talos_support_bundle). */
import { gunzipSync, gzipSync } from "node:zlib";

/** A regular file for `tarGz`: a relative name of at most 100 bytes (ustar's name field). */
export interface TarFile {
  name: string;
  content: Uint8Array;
}

/** A gzip-compressed ustar archive of `files` (mode 0600, owner 0, mtime `mtime`), readable by any tar. */
export function tarGz(files: readonly TarFile[], mtime = new Date()): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    if (Buffer.byteLength(f.name) > 100 || f.name.startsWith("/") || f.name.split("/").includes("..")) {
      throw new Error(`tar entry name not usable: ${f.name}`);
    }
    const h = Buffer.alloc(512);
    const put = (text: string, off: number) => h.write(text, off, "utf8");
    const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, "0") + "\0";
    put(f.name, 0);
    put(oct(0o600, 8), 100);
    put(oct(0, 8), 108);
    put(oct(0, 8), 116);
    put(oct(f.content.length, 12), 124);
    put(oct(Math.floor(mtime.getTime() / 1000), 12), 136);
    h.fill(" ", 148, 156); // the checksum is summed with its own field as spaces
    put("0", 156);
    put("ustar\0", 257);
    put("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    parts.push(h, Buffer.from(f.content), Buffer.alloc((512 - (f.content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return gzipSync(Buffer.concat(parts));
}

/** The content of `name` in a gzip-compressed ustar archive, or undefined when absent. */
export function fileFromTarGz(tgz: Uint8Array, name: string): Buffer | undefined {
  const tar = gunzipSync(tgz);
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) return undefined; // end-of-archive marker
    const entry = header.subarray(0, 100).toString("latin1").replace(/\0.*$/s, "");
    const size = parseInt(header.subarray(124, 136).toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8);
    const type = String.fromCharCode(header[156] || 48);
    const start = off + 512;
    if ((type === "0" || type === "\0") && entry.replace(/^\.\//, "") === name) {
      return Buffer.from(tar.subarray(start, start + size));
    }
    off = start + Math.ceil(size / 512) * 512;
  }
  return undefined;
}
