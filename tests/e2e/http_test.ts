/**
 * @module The compiled binary over streamable HTTP (`--http`), driven by the SDK's
 * StreamableHTTPClientTransport against the simulated cluster: auth, Host and
 * Origin checks, limits, per-request context, concurrency, progress over SSE,
 * health endpoints, SIGTERM drain, and results identical to stdio.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { request as httpRequest } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CallToolResult, ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { ok, spawnHarness, text } from "../harness.ts";
import { httpClient, type HttpProc, spawnHttp } from "../harness_http.ts";

const TOKEN = "test-token-0123456789abcdef";
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};
const POST_HEADERS = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };

let sim: Sim;
let srv: HttpProc;

beforeAll(async () => {
  sim = await startSim({ controlPlanes: 3, workers: 1 });
  srv = await spawnHttp(sim, { env: { TALOS_MCP_AUTH_TOKEN: TOKEN } });
});
afterAll(async () => {
  await srv?.stop();
  await sim?.stop();
});

/** Polls `cond` (a fact recorded by the simulator or the server) until true. */
async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const call = async (client: Awaited<ReturnType<typeof httpClient>>, name: string, args: Record<string, unknown> = {}) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

describe("authentication", () => {
  test("no token → 401 with a JSON-RPC error and a Bearer challenge; nothing reaches Talos", async () => {
    const before = sim.calls.length;
    const res = await fetch(srv.url, { method: "POST", headers: POST_HEADERS, body: JSON.stringify(INIT) });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    const body = await res.json();
    expect(body.error.message).toContain("Authorization: Bearer");
    expect(sim.calls.length).toBe(before);
  });

  test("wrong token → 401, also for a token of the same length", async () => {
    for (const token of ["nope", TOKEN.replace(/.$/, "X"), `${TOKEN}x`]) {
      const res = await fetch(srv.url, {
        method: "POST",
        headers: { ...POST_HEADERS, Authorization: `Bearer ${token}` },
        body: JSON.stringify(INIT),
      });
      expect(res.status).toBe(401);
    }
  });

  test("the SDK client with the right token lists tools and calls one", async () => {
    const client = await httpClient(srv.url, AUTH);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain("talos_version");
      const r = ok(await call(client, "talos_version", { nodes: ["10.5.0.2"] }));
      expect(r.nodes[0]).toMatchObject({ node: "10.5.0.2", hostname: "sim-cp-1", tag: "v1.13.9" });
    } finally {
      await client.close();
    }
  });

  test("the token can come from a file", async () => {
    const file = join(sim.dir, "token");
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const s = await spawnHttp(sim, { env: { TALOS_MCP_AUTH_TOKEN_FILE: file, TALOS_MCP_WARMUP: "false" } });
    try {
      const bad = await fetch(s.url, { method: "POST", headers: POST_HEADERS, body: JSON.stringify(INIT) });
      expect(bad.status).toBe(401);
      const client = await httpClient(s.url, AUTH);
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      await client.close();
    } finally {
      await s.stop();
    }
  });
});

describe("start-up", () => {
  test("TALOS_MCP_HTTP_ADDR alone selects HTTP (the Go talos-mcp's variable)", async () => {
    const s = await spawnHttp(sim, { viaEnv: true, env: { TALOS_MCP_WARMUP: "false" } });
    try {
      const client = await httpClient(s.url);
      expect(ok(await call(client, "talos_version", { nodes: ["10.5.0.2"] })).nodes[0].tag).toBe("v1.13.9");
      await client.close();
    } finally {
      await s.stop();
    }
    expect(await s.exited).toBe(0);
  });

  test("--http without an address, or with a stray argument, exits 2", async () => {
    for (const args of [["--http"], ["--http", "127.0.0.1:0", "extra"]]) {
      const p = Bun.spawn([join(import.meta.dir, "../../dist/talos-mcp"), ...args], {
        env: { PATH: process.env.PATH ?? "" },
        stderr: "pipe",
        stdout: "ignore",
      });
      expect(await p.exited).toBe(2);
      expect(await new Response(p.stderr).text()).toContain("e.g. --http 127.0.0.1:8080");
    }
  });
});

describe("refuses to start exposed", () => {
  test("a non-loopback address without a token exits 2 before listening, saying what to set", async () => {
    const s = Bun.spawn([join(import.meta.dir, "../../dist/talos-mcp"), "--http", "0.0.0.0:0"], {
      env: { PATH: process.env.PATH ?? "", TALOSCONFIG: sim.talosconfig },
      stderr: "pipe",
      stdout: "ignore",
    });
    expect(await s.exited).toBe(2);
    const err = await new Response(s.stderr).text();
    expect(err).toContain("refusing to listen on 0.0.0.0");
    expect(err).toContain("TALOS_MCP_AUTH_TOKEN");
    expect(err).not.toContain("listening on");
  });

  test("a short token is refused", async () => {
    const s = Bun.spawn([join(import.meta.dir, "../../dist/talos-mcp"), "--http", "127.0.0.1:0"], {
      env: { PATH: process.env.PATH ?? "", TALOSCONFIG: sim.talosconfig, TALOS_MCP_AUTH_TOKEN: "short" },
      stderr: "pipe",
      stdout: "ignore",
    });
    expect(await s.exited).toBe(2);
    expect(await new Response(s.stderr).text()).toContain("at least 16 characters");
  });
});

describe("DNS-rebinding protection", () => {
  test("a foreign Origin → 403, even with the right token", async () => {
    const res = await fetch(srv.url, {
      method: "POST",
      headers: { ...POST_HEADERS, ...AUTH, Origin: "http://evil.example.com" },
      body: JSON.stringify(INIT),
    });
    expect(res.status).toBe(403);
    expect((await res.json()).error.message).toContain("TALOS_MCP_ALLOWED_ORIGINS");
  });

  test("a loopback Origin is accepted", async () => {
    const res = await fetch(srv.url, {
      method: "POST",
      headers: { ...POST_HEADERS, ...AUTH, Origin: "http://localhost:3000" },
      body: JSON.stringify(INIT),
    });
    expect(res.status).toBe(200);
    await res.text();
  });

  test("a foreign Host → 403", async () => {
    const port = Number(new URL(srv.url).port);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: "127.0.0.1",
        port,
        path: "/mcp",
        method: "POST",
        headers: { ...POST_HEADERS, ...AUTH, Host: `evil.example.com:${port}` },
      }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(JSON.stringify(INIT));
    });
    expect(status).toBe(403);
  });
});

describe("limits", () => {
  test("an oversized body → 413 with a JSON-RPC error naming the setting", async () => {
    const big = JSON.stringify({ ...INIT, params: { ...INIT.params, pad: "x".repeat(2 << 20) } });
    const res = await fetch(srv.url, { method: "POST", headers: { ...POST_HEADERS, ...AUTH }, body: big });
    expect(res.status).toBe(413);
    expect((await res.json()).error.message).toContain("TALOS_MCP_HTTP_MAX_BODY");
  });

  test("an oversized chunked body (no Content-Length) → 413 too", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 40) c.enqueue(chunk);
        else c.close();
      },
    });
    const res = await fetch(srv.url, { method: "POST", headers: { ...POST_HEADERS, ...AUTH }, body });
    expect(res.status).toBe(413);
    expect((await res.json()).error.message).toContain("1048576");
  });

  test("GET (no stateless stream to open) → 405, not a hang", async () => {
    const res = await fetch(srv.url, { headers: { Accept: "text/event-stream", ...AUTH } });
    expect(res.status).toBe(405);
    expect((await res.json()).error.message).toContain("stateless");
  });

  test("over the in-flight limit → 503 JSON-RPC error; the call in flight still completes", async () => {
    const s = await spawnHttp(sim, { env: { TALOS_MCP_HTTP_MAX_INFLIGHT: "1", TALOS_MCP_WARMUP: "false" } });
    const [a, b] = [await httpClient(s.url), await httpClient(s.url)];
    sim.cluster.nodes[1].faults.delayMs = 1_000;
    try {
      const before = sim.callsTo("Version").length;
      const slow = call(a, "talos_version", { nodes: ["10.5.0.3"] });
      await until(() => sim.callsTo("Version").length > before, "the slow call to reach the node");
      const err = await call(b, "talos_version", { nodes: ["10.5.0.2"] }).catch((e) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect(String(err)).toContain("server busy");
      expect(String(err)).toContain("TALOS_MCP_HTTP_MAX_INFLIGHT");
      expect(ok(await slow).nodes[0].tag).toBe("v1.13.9");
      // Once it is done, the next one is served.
      expect(ok(await call(b, "talos_version", { nodes: ["10.5.0.2"] })).nodes[0].tag).toBe("v1.13.9");
    } finally {
      sim.cluster.nodes[1].faults.delayMs = 0;
      await Promise.all([a.close(), b.close()]);
      await s.stop();
    }
  });

  test("past the per-call deadline → JSON-RPC RequestTimeout naming the setting, in time", async () => {
    const s = await spawnHttp(sim, {
      env: { TALOS_MCP_HTTP_CALL_DEADLINE_MS: "300", TALOS_MCP_TIMEOUT_MS: "20000", TALOS_MCP_WARMUP: "false" },
    });
    const client = await httpClient(s.url);
    // The node would answer after an hour: an answer at all shows the call deadline ended the call.
    sim.cluster.nodes[1].faults.delayMs = 3_600_000;
    try {
      const err = await call(client, "talos_version", { nodes: ["10.5.0.3"] }).catch((e) => e);
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).code).toBe(ErrorCode.RequestTimeout);
      expect((err as McpError).message).toContain("did not finish within 300 ms");
      // The server is fine afterwards.
      expect(ok(await call(client, "talos_version", { nodes: ["10.5.0.2"] })).nodes[0].tag).toBe("v1.13.9");
    } finally {
      sim.cluster.nodes[1].faults.delayMs = 0;
      await client.close();
      await s.stop();
    }
  });
});

describe("per-request Talos context", () => {
  test("X-Talos-Context picks the context; a context argument overrides it", async () => {
    const client = await httpClient(srv.url, { ...AUTH, "X-Talos-Context": "sim-reader" });
    try {
      let before = sim.calls.length;
      ok(await call(client, "talos_version", { nodes: ["10.5.0.2"] }));
      const viaHeader = sim.calls.slice(before).filter((c) => c.method.endsWith("/Version"));
      expect(viaHeader.map((c) => c.roles)).toEqual([["os:reader"]]);
      before = sim.calls.length;
      ok(await call(client, "talos_version", { nodes: ["10.5.0.2"], context: "sim-operator" }));
      const viaArg = sim.calls.slice(before).filter((c) => c.method.endsWith("/Version"));
      expect(viaArg.map((c) => c.roles)).toEqual([["os:operator"]]);
    } finally {
      await client.close();
    }
  });

  test("a context outside TALOS_MCP_ALLOWED_CONTEXTS is refused, by header or argument, without a Talos call", async () => {
    const s = await spawnHttp(sim, { env: { TALOS_MCP_ALLOWED_CONTEXTS: "sim-reader", TALOS_MCP_WARMUP: "false" } });
    const allowed = await httpClient(s.url, { "X-Talos-Context": "sim-reader" });
    const denied = await httpClient(s.url, { "X-Talos-Context": "sim" });
    try {
      ok(await call(allowed, "talos_version", { nodes: ["10.5.0.2"] }));
      const before = sim.calls.length;
      const r1 = await call(denied, "talos_version", { nodes: ["10.5.0.2"] });
      expect(r1.isError).toBe(true);
      expect(text(r1)).toContain('Context "sim" is not allowed');
      const r2 = await call(allowed, "talos_version", { nodes: ["10.5.0.2"], context: "sim-operator" });
      expect(text(r2)).toContain('Context "sim-operator" is not allowed');
      expect(sim.calls.length).toBe(before);
    } finally {
      await Promise.all([allowed.close(), denied.close()]);
      await s.stop();
    }
  });
});

describe("scale and streaming", () => {
  test("200 concurrent calls from 20 clients are all answered, one Talos call each", async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => httpClient(srv.url, AUTH)));
    try {
      const before = sim.callsTo("Version").length;
      const results = await Promise.all(
        clients.flatMap((c, i) =>
          Array.from({ length: 10 }, () => call(c, "talos_version", { nodes: [`10.5.0.${2 + (i % 4)}`] }))
        ),
      );
      expect(results.length).toBe(200);
      for (const r of results) expect(ok(r).nodes[0].tag).toBe("v1.13.9");
      expect(sim.callsTo("Version").length - before).toBe(200);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  test("progress notifications stream (SSE) before the result, one per node", async () => {
    const client = await httpClient(srv.url, AUTH);
    try {
      const progress: Array<{ progress: number; total?: number }> = [];
      const r = await client.callTool({ name: "talos_version", arguments: {} }, undefined, {
        onprogress: (p) => progress.push({ progress: p.progress, total: p.total }),
      });
      expect(ok(r as CallToolResult).nodes.length).toBe(4);
      expect(progress).toEqual([1, 2, 3, 4].map((n) => ({ progress: n, total: 4 })));
    } finally {
      await client.close();
    }
  });

  test("tools/list and tool results are identical to stdio; only stdio offers subscriptions", async () => {
    const stdio = await spawnHarness({ simInstance: sim });
    const client = await httpClient(srv.url, AUTH);
    try {
      // No stream outlives a stateless HTTP request, so resource updates could never be delivered there.
      expect(client.getServerCapabilities()?.resources).toEqual({ subscribe: false });
      expect(stdio.client.getServerCapabilities()?.resources).toEqual({ subscribe: true });
      expect(await client.listTools()).toEqual(await stdio.client.listTools());
      const cases: Array<[string, Record<string, unknown>]> = [
        ["talos_version", {}],
        ["talos_services", { nodes: ["10.5.0.2", "10.5.0.5"] }],
        ["talos_resource_definitions", {}],
      ];
      for (const [name, args] of cases) {
        const viaHttp = await call(client, name, args);
        const viaStdio = await stdio.call(name, args);
        expect(viaHttp.isError).toBeFalsy();
        expect(viaHttp).toEqual(viaStdio);
      }
    } finally {
      await client.close();
      await stdio.close();
    }
  });
});

describe("health", () => {
  test("/healthz is 200; /readyz is 200 once an endpoint answers", async () => {
    expect((await fetch(`${srv.base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${srv.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toContain(`endpoint 127.0.0.1:${sim.endpoints[0].port} reachable`);
  });

  test("/readyz is 503 naming the cause: no talosconfig, or no endpoint reachable", async () => {
    const noConfig = await spawnHttp(sim, {
      env: { TALOSCONFIG: "/nonexistent/talosconfig", TALOS_MCP_WARMUP: "false" },
    });
    const noEndpoint = await spawnHttp(sim, { env: { TALOS_ENDPOINTS: "127.0.0.1:1", TALOS_MCP_WARMUP: "false" } });
    try {
      const a = await fetch(`${noConfig.base}/readyz`);
      expect(a.status).toBe(503);
      expect(await a.text()).toContain("/nonexistent/talosconfig");
      expect((await fetch(`${noConfig.base}/healthz`)).status).toBe(200);
      const b = await fetch(`${noEndpoint.base}/readyz`);
      expect(b.status).toBe(503);
      expect(await b.text()).toContain("no endpoint reachable");
    } finally {
      await Promise.all([noConfig.stop(), noEndpoint.stop()]);
    }
  });
});

describe("shutdown", () => {
  test("SIGTERM lets the in-flight call finish, then exits 0", async () => {
    const s = await spawnHttp(sim, { env: { TALOS_MCP_WARMUP: "false" } });
    const client = await httpClient(s.url);
    sim.cluster.nodes[2].faults.delayMs = 800;
    try {
      const before = sim.callsTo("Version").length;
      const inFlight = call(client, "talos_version", { nodes: ["10.5.0.4"] });
      await until(() => sim.callsTo("Version").length > before, "the call to reach the node");
      s.proc.kill("SIGTERM");
      await s.waitFor("SIGTERM: finishing 1 in-flight");
      expect(ok(await inFlight).nodes[0].tag).toBe("v1.13.9");
      expect(await s.exited).toBe(0);
      expect(s.stderr()).toContain("shutdown complete");
    } finally {
      sim.cluster.nodes[2].faults.delayMs = 0;
      await client.close().catch(() => {});
      await s.stop();
    }
  });
});
