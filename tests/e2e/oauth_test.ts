/**
 * @module OAuth 2.1 on the HTTP transport, against a real local OIDC issuer (jose key pair, JWKS and
 * discovery document served by Bun.serve on loopback): the protected resource metadata and the 401
 * challenge, tokens mapped to the policy's grants, every kind of bad token refused with nothing run, the
 * caller named in audit lines, and per-caller rate limits.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { CallerLimits } from "../../lib/http/limits.ts";
import { httpClient, type HttpProc, spawnHttp } from "../harness_http.ts";
import { text } from "../harness.ts";

const AUDIENCE = "http://localhost/mcp";
const STATIC = "static-token-0123456789abcdef";

let sim: Sim;
let issuer: ReturnType<typeof Bun.serve>;
let issuerUrl: string;
let key: CryptoKey;
let otherKey: CryptoKey;
let http: HttpProc;

beforeAll(async () => {
  sim = await startSim({ controlPlanes: 1, workers: 1 }); // 10.5.0.2 control plane, 10.5.0.3 worker
  const pair = await generateKeyPair("ES256", { extractable: true });
  key = pair.privateKey;
  // Another issuer's key under the same kid: a signature that must not verify.
  ({ privateKey: otherKey } = await generateKeyPair("ES256"));
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  issuer = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/.well-known/openid-configuration") {
        return Response.json({ issuer: issuerUrl, jwks_uri: `${issuerUrl}/jwks` });
      }
      if (path === "/jwks") return Response.json({ keys: [jwk] });
      return new Response("not found", { status: 404 });
    },
  });
  issuerUrl = `http://127.0.0.1:${issuer.port}`;
  const policy = join(sim.dir, "oauth-policy.yaml");
  writeFileSync(
    policy,
    `grants:
  - name: readers
    groups: [sre-readers]
    profile: readonly
  - name: oncall
    scopes: [talos:operate]
    profile: operator
`,
  );
  http = await spawnHttp(sim, {
    env: {
      TALOS_MCP_OAUTH_ISSUER: issuerUrl,
      TALOS_MCP_OAUTH_AUDIENCE: AUDIENCE,
      TALOS_MCP_AUTH_TOKEN: STATIC,
      TALOS_MCP_POLICY: policy,
    },
  });
});
afterAll(async () => {
  await http?.stop();
  issuer?.stop(true);
  sim?.stop();
});

interface Claims {
  sub?: string;
  groups?: string[];
  scope?: string;
  iss?: string;
  aud?: string;
  exp?: number;
  nbf?: number;
}

async function token(claims: Claims = {}, signWith = key, kid = "k1"): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const c = { sub: "alice", iss: issuerUrl, aud: AUDIENCE, exp: now + 300, ...claims };
  const jwt = new SignJWT({ ...(c.groups ? { groups: c.groups } : {}), ...(c.scope ? { scope: c.scope } : {}) })
    .setProtectedHeader({ alg: "ES256", kid })
    .setSubject(c.sub)
    .setIssuer(c.iss)
    .setAudience(c.aud)
    .setIssuedAt(now)
    .setExpirationTime(c.exp);
  if (c.nbf) jwt.setNotBefore(c.nbf);
  return await jwt.sign(signWith);
}

/** A token with alg none: a valid payload, no signature. */
function unsigned(): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: "none", typ: "JWT" })}.${
    b64({ sub: "mallory", iss: issuerUrl, aud: AUDIENCE, exp: now + 300, groups: ["sre-readers"] })
  }.`;
}

/** A raw initialize POST, as a client's first request. */
function initialize(authorization?: string): Promise<Response> {
  return fetch(http.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    }),
  });
}

async function toolsOf(bearer: string): Promise<string[]> {
  const c = await httpClient(http.url, { Authorization: `Bearer ${bearer}` });
  try {
    return (await c.listTools()).tools.map((t) => t.name);
  } finally {
    await c.close();
  }
}

describe("resource server", () => {
  test("protected resource metadata (RFC 9728) at the well-known paths", async () => {
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const res = await fetch(`${http.base}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        resource: AUDIENCE,
        authorization_servers: [issuerUrl],
        bearer_methods_supported: ["header"],
        resource_name: "talos-mcp",
      });
    }
  });

  test("no token: 401 whose challenge points at the metadata", async () => {
    const res = await initialize();
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(
      'Bearer resource_metadata="http://localhost/.well-known/oauth-protected-resource/mcp"',
    );
  });

  const now = () => Math.floor(Date.now() / 1000);
  test.each([
    ["expired", () => token({ exp: now() - 3600 }), "the token has expired"],
    ["not yet valid", () => token({ nbf: now() + 3600 }), "claim nbf is not accepted (check_failed)"],
    [
      "wrong audience",
      () => token({ aud: "https://other.example.com/mcp" }),
      "claim aud is not accepted (check_failed)",
    ],
    ["wrong issuer", () => token({ iss: "https://evil.example.com" }), "claim iss is not accepted (check_failed)"],
    ["bad signature", () => token({}, otherKey), "the token's signature does not verify"],
    ["alg none", () => Promise.resolve(unsigned()), "the token's algorithm is not accepted"],
    ["not a JWT", () => Promise.resolve("abc.def"), "the token is not a valid JWT"],
  ])("%s: 401 with nothing run", async (_, make, why) => {
    const calls = sim.calls.length;
    const res = await initialize(`Bearer ${await make()}`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.message).toBe(`Unauthorized: ${why}`);
    expect(res.headers.get("www-authenticate")).toStartWith(
      'Bearer resource_metadata="http://localhost/.well-known/oauth-protected-resource/mcp", error="invalid_token"',
    );
    expect(sim.calls.length).toBe(calls);
  });
});

describe("grants", () => {
  test("a reader token lists read tools only, cannot reboot (nothing sent), and the audit names the subject", async () => {
    const reader = await token({ sub: "alice@example.com", groups: ["sre-readers"] });
    const names = await toolsOf(reader);
    expect(names).toContain("talos_version");
    expect(names).not.toContain("talos_reboot");
    const c = await httpClient(http.url, { Authorization: `Bearer ${reader}` });
    try {
      const before = sim.callsTo("Reboot").length;
      const r = await c.callTool({ name: "talos_reboot", arguments: { nodes: ["10.5.0.3"], confirm: true } });
      expect(r.isError).toBe(true);
      expect(text(r as never)).toContain('caller "alice@example.com" has profile readonly (from grant "readers"');
      expect(sim.callsTo("Reboot").length).toBe(before);
      await http.waitFor("caller=alice@example.com tool=talos_reboot");
      expect(http.stderr()).toMatch(
        /AUDIT timestamp=\S+ caller=alice@example\.com tool=talos_reboot nodes=10\.5\.0\.3 outcome=denied /,
      );
    } finally {
      await c.close();
    }
    expect(http.stderr()).not.toContain(reader); // tokens never reach the log
  });

  test("an on-call token (by scope) may reboot a worker", async () => {
    const oncall = await token({ sub: "bob", scope: "openid talos:operate" });
    expect(await toolsOf(oncall)).toContain("talos_reboot");
    expect(await toolsOf(oncall)).not.toContain("talos_patch_config");
    const c = await httpClient(http.url, { Authorization: `Bearer ${oncall}` });
    try {
      const before = sim.callsTo("Reboot").length;
      const r = await c.callTool({ name: "talos_reboot", arguments: { nodes: ["10.5.0.3"], confirm: true } });
      expect(r.isError).toBeFalsy();
      expect(sim.callsTo("Reboot").length).toBe(before + 1);
      await http.waitFor("caller=bob tool=talos_reboot nodes=10.5.0.3 outcome=ok");
    } finally {
      await c.close();
    }
  });

  test("a valid token that no grant names gets no tools", async () => {
    expect(await toolsOf(await token({ sub: "carol", groups: ["dev"] }))).toEqual([]);
  });

  test("the static token still works, as caller static-token under the server's profile", async () => {
    expect(await toolsOf(STATIC)).toContain("talos_reset");
  });
});

describe("rate limits", () => {
  test("over the burst: 429 with Retry-After; other callers are not affected", async () => {
    const limited = await spawnHttp(sim, {
      env: {
        TALOS_MCP_AUTH_TOKEN: STATIC,
        TALOS_MCP_RATE_LIMIT: "0.1",
        TALOS_MCP_RATE_BURST: "2",
        TALOS_MCP_WARMUP: "false",
      },
    });
    try {
      const post = (auth: string) =>
        fetch(limited.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            authorization: auth,
          },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
        });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(`Bearer ${STATIC}`)).status);
      expect(statuses.slice(0, 2).every((s) => s !== 429)).toBe(true);
      const res = await post(`Bearer ${STATIC}`);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await res.json()).error.message).toContain('caller "static-token" is over 0.1 requests per second');
      expect((await post("Bearer wrong-token-wrong-token")).status).toBe(401); // refused before it counts
    } finally {
      await limited.stop();
    }
  });

  test("token bucket and concurrency bound, with a fake clock", () => {
    let t = 0;
    const l = new CallerLimits({ ratePerSecond: 2, burst: 2, maxConcurrent: 1 }, () => t);
    const a = l.acquire("a");
    expect("release" in a).toBe(true);
    expect(l.acquire("a")).toEqual({
      retryAfterS: 1,
      why: 'request of caller "a" already in flight'.replace("request", "1 requests") +
        " (TALOS_MCP_MAX_CONCURRENT_PER_CALLER)",
    });
    expect("release" in l.acquire("b")).toBe(true); // per caller
    (a as { release(): void }).release();
    (l.acquire("a") as { release(): void }).release();
    const third = l.acquire("a");
    expect("retryAfterS" in third && third.retryAfterS).toBe(1);
    t += 500; // one token back at 2 per second
    expect("release" in l.acquire("a")).toBe(true);
  });
});
