/**
 * @module Server settings from the environment, parsed and validated once at
 * start-up into a frozen object. A bad value stops the server with a message
 * naming the variable; a bad talosconfig does not (tools report it instead).
 */
import { nodePolicy } from "./policy/nodes.ts";
import { parseAllowedPaths } from "./policy/paths.ts";
import { type Level, LEVELS } from "./log.ts";

export interface Config {
  /** Register no mutating tool at all. */
  readOnly: boolean;
  /** Cap on the text of one tool result, in bytes. */
  maxOutputBytes: number;
  /** Prefixes talos_read_file / talos_list_files may touch; empty = all. */
  allowedPaths: string[];
  /** Turn secret masking off (with a start-up warning). */
  showSecrets: boolean;
  /** Bypass the one-minor-version-per-step upgrade check. */
  skipVersionCheck: boolean;
  /** Deadline for one unary Talos call, ms. */
  callTimeoutMs: number;
  /** How many nodes one tool call talks to at once. */
  fanOutConcurrency: number;
  /** Contexts a call may select; empty = all in the talosconfig. */
  allowedContexts: string[];
  /** Nodes (IPs, CIDRs, hostnames) a call may target; empty = any. */
  allowedNodes: string[];
  /** Connect to the default context in the background once the client has initialized. */
  warmUp: boolean;
  /** Pause between polls while waiting for a rebooting node, ms. */
  pollIntervalMs: number;
  /** How long reboot `wait` and upgrades wait for a node to come back (and etcd to be healthy), ms. */
  waitTimeoutMs: number;
  /** Least severe level written to stderr. */
  logLevel: Level;
  /** TALOS_MCP_TOOLSETS as given (names checked in lib/tools/toolsets.ts, which knows the tools). */
  toolsets: string[];
  /** TALOS_MCP_TOOLS: tools offered on top of the toolsets. */
  tools: string[];
  /** TALOS_MCP_DISABLED_TOOLS: tools never offered. */
  disabledTools: string[];
}

export class ConfigError extends Error {}

/** The process environment, or a test's stand-in. */
export type Env = Record<string, string | undefined>;

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new ConfigError(`${name}=${env[name]} is not a boolean: use true or false`);
}

/** A whole number in [min, max]; unset or empty gives `fallback`. */
export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${raw} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** Byte sizes accept a plain number or a KiB/MiB suffix (`64KiB`, `1MiB`). */
function bytes(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const m = /^(\d+)\s*(b|kb|kib|k|mb|mib|m)?$/i.exec(raw);
  const unit = m?.[2]?.toLowerCase()[0];
  const n = m ? Number(m[1]) * (unit === "k" ? 1024 : unit === "m" ? 1 << 20 : 1) : NaN;
  if (!(n >= min && n <= max)) {
    throw new ConfigError(`${name}=${raw} must be a size from ${min} to ${max} bytes (e.g. 65536 or 64KiB)`);
  }
  return n;
}

/** A comma-separated list, entries trimmed, empty ones dropped. */
export function list(env: Env, name: string): string[] {
  return (env[name] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

function level(env: Env, name: string, fallback: Level): Level {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if ((LEVELS as readonly string[]).includes(raw)) return raw as Level;
  throw new ConfigError(`${name}=${env[name]} is not a log level: use one of ${LEVELS.join(", ")}`);
}

/** A list of node entries (IPs, CIDRs, hostnames), each checked now so a typo stops the server. */
function nodeList(env: Env, name: string): string[] {
  const entries = list(env, name);
  try {
    nodePolicy(entries);
  } catch (err) {
    throw new ConfigError(`${name}: ${(err as Error).message}`);
  }
  return entries;
}

/** Path prefixes, normalised like the paths they are compared with. */
function allowedPaths(env: Env): string[] {
  try {
    return parseAllowedPaths(list(env, "TALOS_MCP_ALLOWED_PATHS"));
  } catch (err) {
    throw new ConfigError(`TALOS_MCP_ALLOWED_PATHS: ${(err as Error).message}`);
  }
}

/** Parses the environment; throws ConfigError naming the bad variable. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  return Object.freeze({
    readOnly: bool(env, "TALOS_MCP_READ_ONLY", false),
    maxOutputBytes: bytes(env, "TALOS_MCP_MAX_OUTPUT", 64 * 1024, 1024, 16 << 20),
    allowedPaths: allowedPaths(env),
    showSecrets: bool(env, "TALOS_MCP_SHOW_SECRETS", false),
    skipVersionCheck: bool(env, "TALOS_MCP_SKIP_VERSION_CHECK", false),
    callTimeoutMs: int(env, "TALOS_MCP_TIMEOUT_MS", 15_000, 100, 600_000),
    fanOutConcurrency: int(env, "TALOS_MCP_CONCURRENCY", 8, 1, 64),
    allowedContexts: list(env, "TALOS_MCP_ALLOWED_CONTEXTS"),
    allowedNodes: nodeList(env, "TALOS_MCP_ALLOWED_NODES"),
    warmUp: bool(env, "TALOS_MCP_WARMUP", true),
    pollIntervalMs: int(env, "TALOS_MCP_POLL_INTERVAL_MS", 5_000, 10, 60_000),
    waitTimeoutMs: int(env, "TALOS_MCP_WAIT_TIMEOUT_MS", 15 * 60_000, 1_000, 3_600_000),
    logLevel: level(env, "TALOS_MCP_LOG_LEVEL", "info"),
    toolsets: list(env, "TALOS_MCP_TOOLSETS"),
    tools: list(env, "TALOS_MCP_TOOLS"),
    disabledTools: list(env, "TALOS_MCP_DISABLED_TOOLS"),
  });
}
