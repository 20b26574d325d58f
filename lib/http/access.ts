/**
 * @module Who may talk to the HTTP server: Host and Origin allowlists against
 * DNS rebinding, and the bearer token, compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { isLoopback } from "./options.ts";

/** Host name of a Host header value, without port or IPv6 brackets, lower-cased. */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(h);
  if (m) return m[1];
  return (h.match(/:/g) ?? []).length > 1 ? h : h.replace(/:\d+$/, ""); // bare IPv6 has no port
}

/**
 * Why a request's Host or Origin is refused, or undefined if it is fine.
 * Origin is only sent by browsers; agents send none, and a missing one passes.
 */
export function refuseHostOrOrigin(
  host: string | null,
  origin: string | null,
  allowedHosts: readonly string[],
  allowedOrigins: readonly string[],
): string | undefined {
  if (allowedHosts.length) {
    const name = host ? hostName(host) : "";
    const ok = allowedHosts.some((a) => hostName(a) === name);
    if (!ok) {
      return `Host "${host ?? ""}" is not allowed; set TALOS_MCP_ALLOWED_HOSTS to the names clients use (now: ${
        allowedHosts.join(", ")
      })`;
    }
  }
  if (origin !== null && !originAllowed(origin, allowedOrigins)) {
    return `Origin "${origin}" is not allowed; add it to TALOS_MCP_ALLOWED_ORIGINS if that page should reach this server`;
  }
  return undefined;
}

function originAllowed(origin: string, allowed: readonly string[]): boolean {
  if (allowed.includes("*")) return true;
  if (allowed.length) return allowed.includes(origin.replace(/\/$/, ""));
  // Default: pages served from this machine only.
  try {
    return isLoopback(new URL(origin).hostname);
  } catch {
    return false;
  }
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
export const bearerToken = (authorization: string | null): string | undefined =>
  /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];

/** Whether `given` is `secret`; digests first, so neither content nor length leaks through timing. */
export function secretEquals(given: string | null | undefined, secret: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given ?? ""), digest(secret));
}

/** Checks `Authorization: Bearer <token>` in constant time. */
export function bearerMatches(authorization: string | null, token: string): boolean {
  const given = bearerToken(authorization);
  return secretEquals(given, token) && given !== undefined;
}
