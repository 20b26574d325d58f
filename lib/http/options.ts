/**
 * @module Settings of the streamable HTTP transport: listen address, token,
 * allowlists and limits, parsed once at start-up. A setting that would expose
 * the server without a token stops it with a message saying what to set.
 */
import { readFileSync } from "node:fs";
import { ConfigError, type Env, int, list } from "../config.ts";
import type { LimitOptions } from "./limits.ts";
import { loadOAuthOptions, type OAuthOptions } from "./oauth.ts";

export interface HttpOptions {
  host: string;
  port: number;
  /** Bound to a loopback address only (then a token is optional). */
  loopback: boolean;
  /** Bearer token clients must send; undefined = none required (loopback only). */
  token?: string;
  /** Host header values accepted (host names, no port); empty = any (non-loopback with a token). */
  allowedHosts: string[];
  /** Origin header values accepted when a client sends one; `*` allows any. */
  allowedOrigins: string[];
  /** Largest request body, bytes. */
  maxBodyBytes: number;
  /** Requests to /mcp handled at once; more get a 503 JSON-RPC error. */
  maxInFlight: number;
  /** Deadline for one tool call, ms. */
  callDeadlineMs: number;
  /** How long SIGTERM waits for in-flight requests, ms. */
  drainMs: number;
  /** OAuth 2.1 resource server settings (TALOS_MCP_OAUTH_*); absent: static token or none. */
  oauth?: OAuthOptions;
  /** Per-caller rate and concurrency limits. */
  limits: LimitOptions;
}

/** A positive decimal (requests per second), 0 = off. */
function rate(env: Env, name: string): number {
  const raw = env[name]?.trim();
  if (!raw) return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 100_000) {
    throw new ConfigError(`${name}=${raw} must be a number of requests per second from 0 (off) to 100000`);
  }
  return n;
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];

/** Loopback per RFC 6890 (127/8, ::1) or the name localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `127.0.0.1:8080`, `[::1]:8080`, `:8080` (all interfaces), `8080`; host defaults to all interfaces. */
export function parseListenAddr(raw: string): { host: string; port: number } {
  const s = raw.trim();
  const m = /^(?:\[([^\]]+)\]|([^:\s]*))?:?(\d{1,5})$/.exec(s.includes(":") ? s : `:${s}`);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(
      `listen address "${raw}" is not host:port; use e.g. 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:8080`,
    );
  }
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

function readToken(env: Env): string | undefined {
  const file = env.TALOS_MCP_AUTH_TOKEN_FILE?.trim();
  if (env.TALOS_MCP_AUTH_TOKEN && file) {
    throw new ConfigError("set TALOS_MCP_AUTH_TOKEN or TALOS_MCP_AUTH_TOKEN_FILE, not both");
  }
  let token = env.TALOS_MCP_AUTH_TOKEN?.trim();
  if (file) {
    try {
      token = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new ConfigError(`TALOS_MCP_AUTH_TOKEN_FILE=${file} cannot be read: ${(err as Error).message}`);
    }
  }
  if (token === undefined || token === "") {
    if (file) throw new ConfigError(`TALOS_MCP_AUTH_TOKEN_FILE=${file} is empty`);
    return undefined;
  }
  // Short tokens can be guessed; 32 hex chars is what `openssl rand -hex 16` gives.
  if (token.length < 16) {
    throw new ConfigError("the auth token must be at least 16 characters (e.g. from: openssl rand -hex 32)");
  }
  return token;
}

/** HTTP settings from `addr` (the --http flag) or TALOS_MCP_HTTP_ADDR; throws ConfigError. */
export function loadHttpOptions(addr: string | undefined, env: Env = process.env): HttpOptions {
  const raw = addr ?? env.TALOS_MCP_HTTP_ADDR;
  if (!raw) throw new ConfigError("--http needs an address, e.g. --http 127.0.0.1:8080");
  const { host, port } = parseListenAddr(raw);
  const loopback = isLoopback(host);
  const token = readToken(env);
  const oauth = loadOAuthOptions(env);
  if (!loopback && !token && !oauth) {
    throw new ConfigError(
      `refusing to listen on ${host}:${port} without authentication: anyone who can reach it could drive your ` +
        `clusters. Set TALOS_MCP_AUTH_TOKEN (or TALOS_MCP_AUTH_TOKEN_FILE) to a secret of 16+ characters, ` +
        `configure OAuth (TALOS_MCP_OAUTH_ISSUER, TALOS_MCP_OAUTH_AUDIENCE), or listen on 127.0.0.1.`,
    );
  }
  const hosts = list(env, "TALOS_MCP_ALLOWED_HOSTS").map((h) => h.toLowerCase());
  return {
    host,
    port,
    loopback,
    token,
    // Loopback: only loopback names, which is what defeats DNS rebinding. Elsewhere the Host is a
    // Service or Ingress name we cannot guess, and the token already stops a rebinding browser.
    allowedHosts: hosts.length ? hosts : loopback ? LOOPBACK_NAMES : [],
    allowedOrigins: list(env, "TALOS_MCP_ALLOWED_ORIGINS"),
    maxBodyBytes: int(env, "TALOS_MCP_HTTP_MAX_BODY", 1 << 20, 1024, 64 << 20),
    maxInFlight: int(env, "TALOS_MCP_HTTP_MAX_INFLIGHT", 256, 1, 10_000),
    callDeadlineMs: int(env, "TALOS_MCP_HTTP_CALL_DEADLINE_MS", 120_000, 100, 3_600_000),
    drainMs: int(env, "TALOS_MCP_HTTP_DRAIN_MS", 30_000, 0, 600_000),
    ...(oauth ? { oauth } : {}),
    limits: limits(env),
  };
}

function limits(env: Env): LimitOptions {
  const ratePerSecond = rate(env, "TALOS_MCP_RATE_LIMIT");
  // Default burst: two seconds' worth, at least 10, so a client's initialize + list + call is never cut.
  const burst = int(env, "TALOS_MCP_RATE_BURST", Math.max(10, Math.ceil(ratePerSecond * 2)), 1, 100_000);
  return { ratePerSecond, burst, maxConcurrent: int(env, "TALOS_MCP_MAX_CONCURRENT_PER_CALLER", 0, 0, 10_000) };
}
