/** @module Reads one file from a (gzip) tar archive: enough for the Kubeconfig RPC's payload
 * (a gzip tar holding one file, `kubeconfig`). */
import { gunzipSync } from "node:zlib";

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
