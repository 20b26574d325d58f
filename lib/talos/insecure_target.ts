/**
 * @module Where a maintenance-mode call goes: the endpoint and the certificate pin, parsed from the
 * arguments. Pure and light: the connection itself (lib/talos/insecure.ts, which loads grpc-js) is loaded
 * only when an insecure call is made, so no session pays for it at start-up.
 */
import { isIP } from "node:net";

/** Talos' API port. */
const DEFAULT_PORT = 50000;

export interface InsecureTarget {
  /** The node's IP: maintenance mode forwards nothing, so the endpoint is the node itself. */
  host: string;
  port: number;
  /** Expected SHA-256 of the node's certificate (lowercase hex), when the caller pins it. */
  pin?: string;
}

/** `cert_fingerprint` as given (hex, any case, colons allowed, optional `sha256:`) → lowercase hex. */
export function normalizeFingerprint(raw: string): string | undefined {
  const hex = raw.trim().toLowerCase().replace(/^sha256:/, "").replace(/:/g, "");
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/** "IP" or "IP:port" ("[v6]:port" for IPv6) → host and port; undefined when it is neither. */
export function parseEndpoint(raw: string): { host: string; port: number } | undefined {
  const s = raw.trim();
  if (isIP(s)) return { host: s, port: DEFAULT_PORT };
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:]+):(\d{1,5})$/.exec(s);
  if (!m || !isIP(m[1])) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1], port } : undefined;
}
