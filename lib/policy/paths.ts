/**
 * @module The remote path guard: syntactic checks on node file paths and the
 * TALOS_MCP_ALLOWED_PATHS allowlist. Pure (no I/O): node paths are remote, so
 * there is no realpath; the check is lexical, on normalised absolute POSIX paths.
 */

/** Why a path was refused; the message says what to send instead. */
export class PathError extends Error {
  override name = "PathError";
}

const MAX_PATH = 4096; // Linux PATH_MAX

/**
 * The canonical form of an absolute node path, or a PathError. Refuses rather
 * than repairs anything that looks like a trick: `..` and `.` segments, empty
 * segments (`//`), relative paths, NUL and other control bytes, backslashes
 * and percent-encoding. A single trailing slash is dropped (`/etc/` is `/etc`).
 */
export function normalisePath(raw: string): string {
  if (typeof raw !== "string" || raw === "") {
    throw new PathError("the path is empty; give an absolute path like /etc/hosts");
  }
  if (raw.length > MAX_PATH) throw new PathError(`the path is longer than ${MAX_PATH} characters`);
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new PathError("the path contains a NUL or control character");
  if (raw.includes("\\")) throw new PathError("the path contains a backslash; node paths use / only");
  if (/%[0-9a-f]{2}/i.test(raw)) {
    throw new PathError("the path contains percent-encoding (e.g. %2e); send the plain characters instead");
  }
  if (!raw.startsWith("/")) throw new PathError(`"${raw}" is relative; give an absolute path starting with /`);
  if (raw === "/") return "/";
  const body = raw.endsWith("/") ? raw.slice(0, -1) : raw;
  const segments = body.slice(1).split("/");
  for (const s of segments) {
    if (s === "") throw new PathError("the path has an empty segment (//); remove the doubled slash");
    if (s === "..") throw new PathError("the path contains a .. segment; give the absolute path without ..");
    if (s === ".") throw new PathError("the path contains a . segment; give the absolute path without it");
  }
  return "/" + segments.join("/");
}

/** Whether normalised `path` is `prefix` or below it, at a segment boundary (`/etcx` is not under `/etc`). */
export function isUnder(path: string, prefix: string): boolean {
  if (prefix === "/") return path.startsWith("/");
  return path === prefix || path.startsWith(prefix + "/");
}

/**
 * Checks `raw` against the allowlist (normalised prefixes; empty = any path)
 * and returns its normalised form, or throws a PathError naming the prefixes.
 */
export function checkPath(raw: string, allowed: readonly string[]): string {
  const path = normalisePath(raw);
  if (allowed.length && !allowed.some((p) => isUnder(path, p))) {
    throw new PathError(
      `${path} is outside the allowed paths (TALOS_MCP_ALLOWED_PATHS: ${allowed.join(", ")}); ` +
        `ask for a path under one of them.`,
    );
  }
  return path;
}

/** Parses TALOS_MCP_ALLOWED_PATHS entries; a bad entry is a start-up error. */
export function parseAllowedPaths(entries: readonly string[]): string[] {
  return [...new Set(entries.map((e) => normalisePath(e)))];
}
