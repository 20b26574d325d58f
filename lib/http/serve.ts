/**
 * @module The MCP server over streamable HTTP (Bun.serve, the SDK's
 * web-standard transport). Stateless: every POST gets a fresh Server and
 * transport, all sharing one set of Talos sessions, so replicas behind a
 * plain Service need no sticky sessions. Answers stream as SSE, carrying
 * the call's progress and log notifications.
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { AsyncLocalStorage } from "node:async_hooks";
import type { Config } from "../config.ts";
import { type Level, log, setMcpSink } from "../log.ts";
import { createServer } from "../server.ts";
import { Sessions } from "../talos/session.ts";
import type { ToolSpec } from "../tools/define.ts";
import { selectTools } from "../tools/toolsets.ts";
import { warmUp } from "../warmup.ts";
import type { PolicySource } from "../guards/policy_source.ts";
import type { Caller } from "../policy/access.ts";
import { bearerMatches, bearerToken, refuseHostOrOrigin } from "./access.ts";
import { CallerLimits } from "./limits.ts";
import { challenge, metadataPaths, resourceMetadata, TokenError, TokenVerifier } from "./oauth.ts";
import type { HttpOptions } from "./options.ts";
import { readinessCheck } from "./ready.ts";

type Env = Record<string, string | undefined>;

/** Header naming the talosconfig context for calls that pass no `context` argument. */
const CONTEXT_HEADER = "x-talos-context";

export interface HttpServer {
  url: string;
  /** Requests to /mcp being answered now. */
  inFlight(): number;
  /** Stops accepting, waits for in-flight requests (up to drainMs), closes Talos channels. */
  shutdown(): Promise<void>;
}

/** A JSON-RPC error as an HTTP response (the shape the SDK transport uses for its own refusals). */
function rpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status, headers });
}

export function serveHttp(
  config: Readonly<Config>,
  opts: HttpOptions,
  env: Env = process.env,
  tools: readonly ToolSpec[] = selectTools(config),
  policy?: PolicySource,
): HttpServer {
  const sessions = new Sessions(config, env);
  const verifier = opts.oauth ? new TokenVerifier(opts.oauth) : undefined;
  const limits = new CallerLimits(opts.limits);
  const stopPolicy = policy?.watch();
  const ready = readinessCheck(sessions);
  // Log lines raised during a tool call go to that call's SSE stream; others only to stderr.
  const callLog = new AsyncLocalStorage<(level: Level, message: string) => void>();
  setMcpSink((level, message) => callLog.getStore()?.(level, message));
  const callScope = <T>(notify: (level: Level, message: string) => void, run: () => Promise<T>) =>
    callLog.run(notify, run);

  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  const release = () => {
    inFlight--;
    if (draining && inFlight === 0) drained?.();
  };

  /** The caller of a request, or the 401 that refuses it (nothing else of the request is looked at). */
  async function authenticate(req: Request): Promise<Caller | Response> {
    const authorization = req.headers.get("authorization");
    if (opts.token !== undefined && bearerMatches(authorization, opts.token)) {
      return { id: "static-token", kind: "static-token", groups: [], scopes: [] };
    }
    if (verifier) {
      const given = bearerToken(authorization);
      if (given === undefined) {
        return rpcError(401, -32000, "Unauthorized: send an OAuth access token (Authorization: Bearer <token>)", {
          "WWW-Authenticate": challenge(verifier.o),
        });
      }
      try {
        return await verifier.verify(given);
      } catch (err) {
        if (!(err instanceof TokenError)) throw err;
        log("notice", `HTTP: token refused: ${err.message}`);
        return rpcError(401, -32000, `Unauthorized: ${err.message}`, {
          "WWW-Authenticate": challenge(verifier.o, err.message),
        });
      }
    }
    if (opts.token !== undefined) {
      return rpcError(401, -32000, "Unauthorized: send Authorization: Bearer <token> (TALOS_MCP_AUTH_TOKEN)", {
        "WWW-Authenticate": 'Bearer realm="talos-mcp"',
      });
    }
    return { id: "anonymous", kind: "anonymous", groups: [], scopes: [] };
  }

  async function handleMcp(req: Request, caller: Caller): Promise<Response> {
    if (req.method !== "POST") {
      // Stateless: no session to resume and no server-initiated stream, so only POST (spec: 405).
      const message = `Method ${req.method} not allowed: this server is stateless, POST JSON-RPC to /mcp`;
      return rpcError(405, -32000, message, { Allow: "POST" });
    }
    if (draining) {
      return rpcError(503, -32000, "server is shutting down; retry on another replica", { "Retry-After": "1" });
    }
    if (inFlight >= opts.maxInFlight) {
      return rpcError(
        503,
        -32000,
        `server busy: ${opts.maxInFlight} requests in flight (TALOS_MCP_HTTP_MAX_INFLIGHT); retry shortly`,
        { "Retry-After": "1" },
      );
    }
    const length = Number(req.headers.get("content-length") ?? 0);
    if (length > opts.maxBodyBytes) return tooLarge();
    const slot = limits.acquire(caller.id);
    if ("retryAfterS" in slot) {
      return rpcError(429, -32000, `Too many requests: ${slot.why}; retry after ${slot.retryAfterS} s`, {
        "Retry-After": String(slot.retryAfterS),
      });
    }
    inFlight++;
    const context = req.headers.get(CONTEXT_HEADER)?.trim() || undefined;
    const { server } = createServer({
      config,
      tools,
      env,
      sessions,
      defaultContext: context,
      callDeadlineMs: opts.callDeadlineMs,
      callScope,
      caller,
      policy,
    });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      maxRequestBodySize: opts.maxBodyBytes,
      keepAliveMs: KEEPALIVE_MS,
    });
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      slot.release();
      release();
      void server.close().catch(() => {});
    };
    try {
      await server.connect(transport);
      const res = await transport.handleRequest(req);
      if (!res.body) {
        finish();
        return res;
      }
      return new Response(onEnd(res.body, finish), res);
    } catch (err) {
      finish();
      log("error", `HTTP request failed: ${(err as Error)?.stack ?? err}`);
      return rpcError(500, -32603, "internal error; the server log has details");
    }
  }

  function tooLarge(): Response {
    return rpcError(
      413,
      -32000,
      `request body over ${opts.maxBodyBytes} bytes (TALOS_MCP_HTTP_MAX_BODY); send smaller arguments`,
    );
  }

  const server = Bun.serve({
    hostname: opts.host,
    port: opts.port,
    // Above the SSE keep-alive interval, so a long call's stream is not cut as idle.
    idleTimeout: 30,
    // Bun answers a declared Content-Length over this with a bare 413 before we see the request; ours
    // (with a JSON-RPC body) comes first only when Bun's bound is far above it. Bodies are streamed and
    // we stop reading at our limit, so this bound costs no memory.
    maxRequestBodySize: 1 << 30,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/healthz") return new Response("ok\n");
      if (path === "/readyz") {
        if (draining) return new Response("shutting down\n", { status: 503 });
        const r = await ready();
        return new Response(`${r.detail}\n`, { status: r.ready ? 200 : 503 });
      }
      if (opts.oauth && metadataPaths(opts.oauth.audience).includes(path)) {
        return Response.json(resourceMetadata(opts.oauth), { headers: { "Cache-Control": "max-age=300" } });
      }
      if (path !== "/mcp") return new Response("not found: the MCP endpoint is /mcp\n", { status: 404 });
      const refused = refuseHostOrOrigin(
        req.headers.get("host"),
        req.headers.get("origin"),
        opts.allowedHosts,
        opts.allowedOrigins,
      );
      if (refused) return rpcError(403, -32000, `Forbidden: ${refused}`);
      const caller = await authenticate(req);
      if (caller instanceof Response) return caller;
      return handleMcp(req, caller);
    },
    error(err) {
      log("error", `HTTP server error: ${err.stack ?? err.message}`);
      return rpcError(500, -32603, "internal error; the server log has details");
    },
  });

  if (config.warmUp) setTimeout(() => void warmUp(sessions, config), 0);
  const url = `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${server.port}/mcp`;

  return {
    url,
    inFlight: () => inFlight,
    async shutdown() {
      draining = true;
      void server.stop(false);
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, opts.drainMs).unref?.();
        });
      }
      if (inFlight > 0) log("warning", `shutdown: ${inFlight} requests still in flight after ${opts.drainMs} ms`);
      await server.stop(true);
      stopPolicy?.();
      sessions.close();
      setMcpSink(undefined);
    },
  };
}

const KEEPALIVE_MS = 10_000;

/** `body`, calling `done` once it has been read to the end, failed, or was cancelled by the client. */
function onEnd(body: ReadableStream<Uint8Array>, done: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: end } = await reader.read();
        if (end) {
          controller.close();
          done();
        } else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
        done();
      }
    },
    cancel(reason) {
      done();
      return reader.cancel(reason);
    },
  });
}
