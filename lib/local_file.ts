/**
 * @module Local files written by tools (kubeconfig, etcd snapshot): mode 0600,
 * created atomically (a temp file in the same directory, then linked or
 * renamed into place), never overwriting unless asked. The caller gets the
 * path, size and sha256 — never the content.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { randomBytes } from "node:crypto";
import { ToolError } from "./errors.ts";

export interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** Checks `path` before any RPC: absolute, in an existing directory, free unless `overwrite`. */
export function checkTarget(path: string, overwrite: boolean): void {
  if (!isAbsolute(path)) throw new ToolError(`path must be absolute, got "${path}".`, "INVALID_ARGUMENT");
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ToolError(`Directory ${dir} does not exist; create it or choose another path.`, "INVALID_ARGUMENT");
  }
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new ToolError(`${path} is a directory; name a file.`, "INVALID_ARGUMENT");
    if (!overwrite) {
      throw new ToolError(
        `${path} already exists; pass overwrite: true to replace it, or choose another path.`,
        "EXISTS",
      );
    }
  }
}

/**
 * Writes what `fill` produces (chunk by chunk) to `path`. On any failure the
 * temp file is removed and `path` is untouched.
 */
export async function writeLocalFile(
  path: string,
  overwrite: boolean,
  fill: (write: (chunk: Uint8Array) => void) => Promise<void>,
  /** Last check on the complete content before it is put in place; throw to discard it. */
  verify?: (bytes: number) => void,
): Promise<WrittenFile> {
  checkTarget(path, overwrite);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", 0o600);
  const hash = createHash("sha256");
  let bytes = 0;
  let closed = false;
  try {
    await fill((chunk) => {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off);
      hash.update(chunk);
      bytes += chunk.length;
    });
    verify?.(bytes);
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    if (overwrite) renameSync(tmp, path);
    else {
      try {
        linkSync(tmp, path); // fails if someone created `path` meanwhile: never clobber
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") {
          throw new ToolError(`${path} already exists; pass overwrite: true to replace it.`, "EXISTS");
        }
        throw err;
      } finally {
        unlinkSync(tmp);
      }
    }
    return { path, bytes, sha256: hash.digest("hex") };
  } catch (err) {
    if (!closed) closeSync(fd);
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
}
