/**
 * @module Finds or installs the talos-mcp binary for this platform: the cache,
 * else a download from the release verified against the checksums digest
 * stamped into this package at publish time.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { assetName, cacheDir } from "./platform.js";

const MAX_CHECKSUMS_BYTES = 64 * 1024;
const MAX_BINARY_BYTES = 512 * 1024 * 1024;

/** What `scripts/stamp_launcher.ts` wrote into release.json at publish time. */
export function readStamp() {
  const path = join(dirname(fileURLToPath(import.meta.url)), "..", "release.json");
  return JSON.parse(readFileSync(path, "utf8"));
}

/** `name → sha256` from a checksums.txt (`<hex>  <name>` per line, as sha256sum writes it). */
export function parseChecksums(text) {
  const sums = new Map();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-f]{64}) [ *]?(.+)$/.exec(line.trim());
    if (m) sums.set(m[2], m[1]);
  }
  return sums;
}

function numberFromEnv(env, name, fallback) {
  const v = env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${v} is not a positive whole number of milliseconds`);
  return n;
}

/**
 * Path of a verified binary for this platform, downloading it on first use.
 * `log` receives progress lines (the caller sends them to stderr, never stdout).
 */
export async function ensureBinary({ env = process.env, stamp = readStamp(), log = () => {} } = {}) {
  if (env.TALOS_MCP_BINARY) {
    const p = env.TALOS_MCP_BINARY;
    if (!existsSync(p) || !statSync(p).isFile()) throw new Error(`TALOS_MCP_BINARY=${p} is not a file`);
    return p;
  }
  const { version, checksumsSha256, repository } = stamp;
  if (!version || !/^[0-9a-f]{64}$/.test(checksumsSha256 ?? "")) {
    throw new Error(
      "this launcher package was not stamped with a release (version and checksums digest), so it cannot verify a " +
        "download; install a published talos-mcp from npm, or set TALOS_MCP_BINARY to a talos-mcp binary",
    );
  }
  const asset = assetName();
  const dir = cacheDir(version, env);
  const target = join(dir, asset);
  if (existsSync(target)) return target;

  const base = (env.TALOS_MCP_MIRROR || `https://github.com/${repository}/releases/download`).replace(/\/+$/, "");
  const release = `${base}/v${version}`;
  const opts = {
    env,
    idleMs: numberFromEnv(env, "TALOS_MCP_DOWNLOAD_IDLE_MS", 30_000),
    totalMs: numberFromEnv(env, "TALOS_MCP_DOWNLOAD_TIMEOUT_MS", 600_000),
  };
  log(`first run of v${version}: downloading ${asset} from ${release}/ (cache: ${dir})`);
  try {
    // Loaded only now: a warm start does not pay for node:https and node:tls.
    const { fetchBuffer, fetchToFile } = await import("./http.js");
    const want = await expectedDigest(fetchBuffer, release, asset, stamp, opts);
    mkdirSync(dir, { recursive: true });
    removeStalePartials(dir);
    await fetchVerified(fetchToFile, `${release}/${asset}`, want, dir, target, opts);
    log(`verified ${asset} v${version} (sha256 ${want})`);
    return target;
  } catch (err) {
    const hint = /HTTP 404/.test(err.message)
      ? ` Is v${version} published there? TALOS_MCP_MIRROR sets another download base; TALOS_MCP_BINARY runs a local binary.`
      : /^(EACCES|EPERM|EROFS|ENOTDIR|ENOSPC)$/.test(err.code ?? "")
      ? " Set TALOS_MCP_CACHE_DIR to a writable directory with room for the binary (about 120 MB)."
      : "";
    const msg = /[.?]$/.test(err.message) ? err.message : `${err.message}.`;
    throw new Error(`${msg}${hint} Nothing was cached.`);
  }
}

/** The sha256 of `asset`, from a checksums.txt that matches the stamped digest. */
async function expectedDigest(fetchBuffer, release, asset, stamp, opts) {
  const sums = await fetchBuffer(`${release}/checksums.txt`, { ...opts, maxBytes: MAX_CHECKSUMS_BYTES });
  if (sums.sha256 !== stamp.checksumsSha256) {
    throw new Error(
      `checksums.txt from ${release}/ has sha256 ${sums.sha256}, but talos-mcp@${stamp.version} was published ` +
        `with ${stamp.checksumsSha256}: the file was altered or is not from the v${stamp.version} release.`,
    );
  }
  const want = parseChecksums(sums.body.toString("utf8")).get(asset);
  if (!want) throw new Error(`checksums.txt of v${stamp.version} lists no ${asset}.`);
  return want;
}

/**
 * Removes downloads left behind by runs that were killed mid-way (an hour
 * old: a concurrent first run's file is younger and is left alone).
 */
function removeStalePartials(dir) {
  const cutoff = Date.now() - 3600_000;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".partial")) continue;
    try {
      if (statSync(join(dir, name)).mtimeMs < cutoff) rmSync(join(dir, name), { force: true });
    } catch {
      // gone already, or not ours to remove: either way not worth failing the start for
    }
  }
}

/**
 * Downloads into a private temporary name and renames it into place once
 * verified: concurrent first runs each download, and whichever renames last
 * wins with identical bytes; no reader ever sees a partial or unverified file.
 */
async function fetchVerified(fetchToFile, url, want, dir, target, opts) {
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.partial`);
  try {
    const got = await fetchToFile(url, tmp, { ...opts, maxBytes: MAX_BINARY_BYTES });
    if (got.sha256 !== want) {
      throw new Error(
        `${basename(target)} from ${url} has sha256 ${got.sha256}, but checksums.txt says ${want}: the download ` +
          "was altered or corrupted.",
      );
    }
    try {
      renameSync(tmp, target);
    } catch (err) {
      // Windows refuses to replace a file that another first run already executes.
      if (!existsSync(target)) throw err;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}
