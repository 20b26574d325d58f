/**
 * @module talos-mcp as an OAuth 2.1 resource server (the MCP authorization spec): JWT access tokens
 * checked against the issuer's JWKS with `jose` (signature, iss, aud = this server's resource URL, exp,
 * nbf, with a clock skew allowance; asymmetric algorithms only, so `none` and HMAC tokens are refused),
 * the Protected Resource Metadata document (RFC 9728) and the `WWW-Authenticate` challenge that points
 * clients at it. The token's subject, groups and scopes become the Caller that policy grants match.
 */
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import { ConfigError, type Env, int } from "../config.ts";
import type { Caller } from "../policy/access.ts";
import { isLoopback } from "./options.ts";

export interface OAuthOptions {
  issuer: string;
  /** This server's resource URL (e.g. https://talos-mcp.example.com/mcp): the `aud` tokens must carry. */
  audience: string;
  /** The JWKS; absent: the issuer's discovery document names it. */
  jwksUrl?: string;
  subjectClaim: string;
  groupsClaim: string;
  /** Seconds of clock difference tolerated for exp and nbf. */
  clockSkewS: number;
  /** Scopes the metadata advertises (TALOS_MCP_OAUTH_SCOPES); informative, grants decide. */
  scopes: string[];
}

/** Signature algorithms accepted: asymmetric only (a JWKS publishes public keys; `none` is never valid). */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** https, or http to a loopback host (a local issuer in development and tests). */
function checkUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name}=${raw} is not a URL (e.g. https://login.example.com/realms/ops)`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new ConfigError(`${name}=${raw} must be an https URL (http only for a loopback host)`);
  }
  return raw.replace(/\/$/, "");
}

/** The OAuth settings, or undefined when TALOS_MCP_OAUTH_ISSUER is unset; throws ConfigError. */
export function loadOAuthOptions(env: Env): OAuthOptions | undefined {
  const issuer = env.TALOS_MCP_OAUTH_ISSUER?.trim();
  if (!issuer) return undefined;
  const audience = env.TALOS_MCP_OAUTH_AUDIENCE?.trim();
  if (!audience) {
    throw new ConfigError(
      "TALOS_MCP_OAUTH_ISSUER needs TALOS_MCP_OAUTH_AUDIENCE: this server's public URL as clients reach it " +
        "(e.g. https://talos-mcp.example.com/mcp), which tokens must carry as aud",
    );
  }
  const jwks = env.TALOS_MCP_OAUTH_JWKS_URL?.trim();
  return {
    issuer: checkUrl("TALOS_MCP_OAUTH_ISSUER", issuer),
    audience: checkUrl("TALOS_MCP_OAUTH_AUDIENCE", audience),
    ...(jwks ? { jwksUrl: checkUrl("TALOS_MCP_OAUTH_JWKS_URL", jwks) } : {}),
    subjectClaim: env.TALOS_MCP_OAUTH_SUBJECT_CLAIM?.trim() || "sub",
    groupsClaim: env.TALOS_MCP_OAUTH_GROUPS_CLAIM?.trim() || "groups",
    clockSkewS: int(env, "TALOS_MCP_OAUTH_CLOCK_SKEW_S", 60, 0, 600),
    scopes: (env.TALOS_MCP_OAUTH_SCOPES ?? "").split(/[\s,]+/).filter(Boolean),
  };
}

/** Where RFC 9728 puts the metadata of resource `audience`: /.well-known/oauth-protected-resource + its path. */
export function metadataPaths(audience: string): string[] {
  const path = new URL(audience).pathname.replace(/\/$/, "");
  const base = "/.well-known/oauth-protected-resource";
  return path ? [`${base}${path}`, base] : [base];
}

/** The metadata URL clients are sent to in the 401 challenge. */
function metadataUrl(audience: string): string {
  return new URL(metadataPaths(audience)[0], audience).href;
}

/** The Protected Resource Metadata document (RFC 9728 §2). */
export function resourceMetadata(o: OAuthOptions): Record<string, unknown> {
  return {
    resource: o.audience,
    authorization_servers: [o.issuer],
    bearer_methods_supported: ["header"],
    ...(o.scopes.length ? { scopes_supported: o.scopes } : {}),
    resource_name: "talos-mcp",
  };
}

/** The `WWW-Authenticate` value of a 401; `error` per RFC 6750 when a token was sent and refused. */
export function challenge(o: OAuthOptions, error?: string): string {
  const parts = [`resource_metadata="${metadataUrl(o.audience)}"`];
  if (error) parts.push(`error="invalid_token"`, `error_description="${error.replace(/["\\]/g, "'")}"`);
  return `Bearer ${parts.join(", ")}`;
}

/** A refused token: the reason is for the client and the log (never the token itself). */
export class TokenError extends Error {}

/** Claims as a list of strings: an array, or a space-separated string (`scope`). */
function stringsOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  if (typeof v === "string") return v.split(/\s+/).filter(Boolean);
  return [];
}

/** A caller id safe for log lines: no whitespace or controls, bounded. */
const safeId = (s: string) => s.replace(/[\p{Cc}\s]/gu, "?").slice(0, 200);

/** Verifies access tokens; the JWKS (found by discovery when not configured) is fetched once and cached by jose. */
export class TokenVerifier {
  #jwks?: Promise<ReturnType<typeof createRemoteJWKSet>>;

  constructor(readonly o: OAuthOptions) {}

  /** The JWKS URL: configured, or the issuer's OpenID (then OAuth) discovery document's jwks_uri. */
  async #keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.o.jwksUrl) return createRemoteJWKSet(new URL(this.o.jwksUrl));
    for (const doc of ["openid-configuration", "oauth-authorization-server"]) {
      const res = await fetch(`${this.o.issuer}/.well-known/${doc}`, { signal: AbortSignal.timeout(5_000) })
        .catch(() => undefined);
      if (!res?.ok) continue;
      const meta = await res.json().catch(() => ({})) as { jwks_uri?: unknown; issuer?: unknown };
      if (typeof meta.jwks_uri === "string") return createRemoteJWKSet(new URL(meta.jwks_uri));
    }
    throw new TokenError(
      `cannot find the issuer's keys: ${this.o.issuer}/.well-known/openid-configuration names no jwks_uri ` +
        `(set TALOS_MCP_OAUTH_JWKS_URL)`,
    );
  }

  /** The caller a valid token stands for; throws TokenError saying why a token is refused. */
  async verify(token: string): Promise<Caller> {
    this.#jwks ??= this.#keys();
    let keys;
    try {
      keys = await this.#jwks;
    } catch (err) {
      this.#jwks = undefined; // the issuer may be back at the next request
      throw err instanceof TokenError ? err : new TokenError(`cannot reach the issuer: ${(err as Error).message}`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.o.issuer,
        audience: this.o.audience,
        clockTolerance: this.o.clockSkewS,
        algorithms: ALGORITHMS,
        requiredClaims: ["exp"],
      }));
    } catch (err) {
      throw new TokenError(reason(err));
    }
    const subject = payload[this.o.subjectClaim];
    if (typeof subject !== "string" || !subject) {
      throw new TokenError(`the token has no ${this.o.subjectClaim} claim (TALOS_MCP_OAUTH_SUBJECT_CLAIM)`);
    }
    return {
      id: safeId(subject),
      kind: "oauth",
      groups: stringsOf(payload[this.o.groupsClaim]),
      scopes: stringsOf(payload.scope ?? payload.scp),
    };
  }
}

/** Why jose refused a token, in words that help the client without echoing it. */
function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "the token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) return `claim ${err.claim} is not accepted (${err.reason})`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (err instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not accepted";
  if (err instanceof errors.JWKSNoMatchingKey) return "no key of the issuer matches the token";
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return "the token is not a valid JWT";
  return `the token is refused: ${(err as Error)?.message ?? err}`;
}
