/**
 * @module Local files of tools. Written (kubeconfig, etcd snapshot): mode 0600,
 * created atomically (a temp file in the same directory, then linked or
 * renamed into place), never overwriting unless asked; the caller gets the
 * path, size and sha256 — never the content. Read (a config to validate):
 * absolute, a regular file, bounded.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  linkSync,
  openSync,
  readSync,
  realpathSync,
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

/** Where a tool writes: the path, whether it may replace a file, and files it must never replace. */
export interface Target {
  path: string;
  overwrite: boolean;
  /** Never written, whatever `overwrite` says (the talosconfig in use); compared after resolving links. */
  protect?: readonly string[];
}

/**
 * Checks the target before any RPC (and again just before writing): absolute, in an existing directory,
 * free unless `overwrite`, and none of `protect`.
 */
export function checkTarget({ path, overwrite, protect = [] }: Target): void {
  if (!isAbsolute(path)) throw new ToolError(`path must be absolute, got "${path}".`, "INVALID_ARGUMENT");
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ToolError(`Directory ${dir} does not exist; create it or choose another path.`, "INVALID_ARGUMENT");
  }
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : join(realpathSync(dirname(p)), basename(p)));
  const target = real(path);
  if (protect.some((p) => existsSync(dirname(p)) && real(p) === target)) {
    throw new ToolError(
      `${path} is the talosconfig this server uses; talos-mcp never writes it. Choose another path.`,
      "DENIED",
    );
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
  target: Target,
  fill: (write: (chunk: Uint8Array) => void) => Promise<void>,
  /** Last check on the complete content before it is put in place; throw to discard it. */
  verify?: (bytes: number) => void,
): Promise<WrittenFile> {
  checkTarget(target);
  const { path, overwrite } = target;
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

/**
 * Reads a local file an argument names (`what`: the argument, for messages): absolute, a regular file
 * (symlinks followed), at most `maxBytes`. The size is checked on the open file, so a file swapped or grown
 * after the check cannot make the read unbounded.
 */
export function readLocalBytes(path: string, maxBytes: number, what = "path"): Buffer {
  if (!isAbsolute(path)) throw new ToolError(`${what} must be an absolute path, got "${path}".`, "INVALID_ARGUMENT");
  let fd: number;
  try {
    // Checked before opening too: opening a FIFO would block until something writes to it.
    if (!statSync(path).isFile()) {
      throw new ToolError(`${path} is not a regular file; name a file.`, "INVALID_ARGUMENT");
    }
    fd = openSync(path, "r");
  } catch (err) {
    if (err instanceof ToolError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ToolError(`${what} ${path} does not exist; check the path.`, "NOT_FOUND");
    if (code === "EACCES") throw new ToolError(`${path} is not readable by talos-mcp (permission denied).`);
    throw new ToolError(`cannot open ${path}: ${code ?? (err as Error).message}.`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ToolError(`${path} is not a regular file; name a file.`, "INVALID_ARGUMENT");
    if (st.size > maxBytes) {
      throw new ToolError(`${path} is ${st.size} bytes, over the ${maxBytes}-byte limit.`, "TOO_LARGE");
    }
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0;) n += r;
    if (n > maxBytes) throw new ToolError(`${path} grew over the ${maxBytes}-byte limit while read.`, "TOO_LARGE");
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** readLocalBytes as UTF-8 text. */
export const readLocalFile = (path: string, maxBytes: number, what = "path"): string =>
  readLocalBytes(path, maxBytes, what).toString("utf8");
