/**
 * @module Server settings from the environment, parsed and validated once at
 * start-up into a frozen object. A bad value stops the server with a message
 * naming the variable; a bad talosconfig does not (tools report it instead).
 */
import { isIP } from "node:net";
import { nodePolicy } from "./policy/nodes.ts";
import { parseAllowedPaths } from "./policy/paths.ts";
import { isProfile, narrowest, type Profile, PROFILES } from "./policy/profiles.ts";
import { type Level, LEVELS } from "./log.ts";

export interface Config {
  /** Register no mutating tool at all (TALOS_MCP_READ_ONLY=true, or profile readonly). */
  readOnly: boolean;
  /**
   * The safety profile of the whole server: the narrower of TALOS_MCP_PROFILE (default admin) and
   * TALOS_MCP_READ_ONLY (true = readonly). A policy file and its grants can only narrow it further.
   */
  profile: Profile;
  /** TALOS_MCP_POLICY: the policy file (lib/guards/policy_source.ts), re-read when it changes or on SIGHUP. */
  policyFile?: string;
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
  /** Let the maintenance-mode tools talk to nodes without verifying them (pinned instead; lib/talos/insecure.ts). */
  enableInsecure: boolean;
  /** Nodes (IPs, CIDRs of at most /24 IPv4 or /64 IPv6) those calls may reach; required with enableInsecure. */
  insecureAllowedNodes: string[];
  /** META keys beyond the user keys (12-14) that talos_meta may write or delete. */
  metaPrivilegedKeys: number[];
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

/**
 * TALOS_MCP_INSECURE_ALLOWED_NODES: IPs and CIDRs only (the endpoint of an unverified call is an IP), no
 * range wider than /24 (IPv4) or /64 (IPv6), so a typo cannot open a whole network to unverified calls.
 */
function insecureNodes(env: Env, enabled: boolean): string[] {
  const name = "TALOS_MCP_INSECURE_ALLOWED_NODES";
  const entries = nodeList(env, name);
  for (const e of entries) {
    const [addr, bits] = e.split("/");
    const family = isIP(addr);
    if (!family) throw new ConfigError(`${name}: "${e}" is not an IP or CIDR (hostnames are not accepted here)`);
    const widest = family === 4 ? 24 : 64;
    if (bits !== undefined && Number(bits) < widest) {
      throw new ConfigError(`${name}: "${e}" is wider than /${widest}; list the maintenance-mode nodes more narrowly`);
    }
  }
  if (enabled && !entries.length) {
    throw new ConfigError(`TALOS_MCP_ENABLE_INSECURE=true needs ${name} (the IPs of the maintenance-mode nodes)`);
  }
  return entries;
}

/** META keys, decimal or 0x hex, each 0-255. */
export function parseMetaKey(raw: string): number | undefined {
  const s = raw.trim().toLowerCase();
  const n = /^0x[0-9a-f]{1,2}$/.test(s) ? parseInt(s.slice(2), 16) : /^\d{1,3}$/.test(s) ? Number(s) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : undefined;
}

function metaKeys(env: Env): number[] {
  return list(env, "TALOS_MCP_META_PRIVILEGED_KEYS").map((raw) => {
    const k = parseMetaKey(raw);
    if (k === undefined) {
      throw new ConfigError(`TALOS_MCP_META_PRIVILEGED_KEYS: "${raw}" is not a META key (0-255, decimal or 0x hex)`);
    }
    return k;
  });
}

/** Path prefixes, normalised like the paths they are compared with. */
function allowedPaths(env: Env): string[] {
  try {
    return parseAllowedPaths(list(env, "TALOS_MCP_ALLOWED_PATHS"));
  } catch (err) {
    throw new ConfigError(`TALOS_MCP_ALLOWED_PATHS: ${(err as Error).message}`);
  }
}

function profile(env: Env): Profile {
  const raw = env.TALOS_MCP_PROFILE?.trim().toLowerCase();
  if (raw === undefined || raw === "") return "admin";
  if (isProfile(raw)) return raw;
  throw new ConfigError(
    `TALOS_MCP_PROFILE=${env.TALOS_MCP_PROFILE} is not a profile: use one of ${PROFILES.join(", ")}`,
  );
}

/** Parses the environment; throws ConfigError naming the bad variable. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  // The stricter setting wins: READ_ONLY=true with PROFILE=admin is readonly (docs/policy.md).
  const effective = narrowest(profile(env), bool(env, "TALOS_MCP_READ_ONLY", false) ? "readonly" : undefined);
  const policyFile = env.TALOS_MCP_POLICY?.trim() || undefined;
  return Object.freeze({
    readOnly: effective === "readonly",
    profile: effective,
    ...(policyFile ? { policyFile } : {}),
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
    enableInsecure: bool(env, "TALOS_MCP_ENABLE_INSECURE", false),
    insecureAllowedNodes: insecureNodes(env, bool(env, "TALOS_MCP_ENABLE_INSECURE", false)),
    metaPrivilegedKeys: metaKeys(env),
  });
}
