/**
 * @module `talos-mcp dashboard`: the cluster view in a local browser, for people whose MCP client cannot show
 * MCP Apps. It listens on loopback only, on an ephemeral port, and requires a random token (printed in the URL)
 * for the page and for every call. The page gets its data from one endpoint, POST /call, which runs the view's
 * read-only tools through the same MCP server as stdio (guards, masking, output cap), in-process.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import type { Config } from "../config.ts";
import { messageOf } from "../errors.ts";
import { createServer } from "../server.ts";
import { Sessions } from "../talos/session.ts";
import { ALL_TOOLS } from "../tools/mod.ts";
import { bearerMatches, secretEquals } from "../http/access.ts";
import type { PolicySource } from "../guards/policy_source.ts";
import type { Caller } from "../policy/access.ts";
import { CLUSTER_VIEW_HTML, VIEW_TOOLS } from "./view.ts";

type Env = Record<string, string | undefined>;

/** A call's JSON body is a tool name and small arguments; anything bigger is not from the page. */
const MAX_BODY_BYTES = 16 * 1024;

export interface Dashboard {
  /** The URL to open, token included. */
  url: string;
  port: number;
  token: string;
  stop(): Promise<void>;
}

export interface DashboardOptions {
  /** talosconfig context for the view's calls; default: the current one. */
  context?: string;
  env?: Env;
  /** 0 (default): an ephemeral port. */
  port?: number;
  /** The policy file in force (TALOS_MCP_POLICY): it applies to the dashboard's calls as to any other caller's. */
  policy?: PolicySource;
}

/**
 * The page's Content-Security-Policy: its own inline script (by hash) and style, calls to itself only. Even
 * if a string escaped the view's text-only rendering, an injected script would not run.
 */
function contentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)]
    .map((m) => `'sha256-${createHash("sha256").update(m[1]).digest("base64")}'`);
  return [
    "default-src 'none'",
    `script-src ${hashes.join(" ")}`,
    "style-src 'unsafe-inline'",
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Named in audit and log lines, and matched by the policy file's grants like any caller. */
const DASHBOARD_CALLER: Caller = { id: "dashboard", kind: "stdio", groups: [], scopes: [] };

const json = (status: number, body: unknown) =>
  Response.json(body, { status, headers: { "cache-control": "no-store", "x-content-type-options": "nosniff" } });

/** Starts the dashboard; `stop()` closes the listener, the in-process MCP session and the Talos channels. */
async function startDashboard(config: Readonly<Config>, opts: DashboardOptions = {}): Promise<Dashboard> {
  const env = opts.env ?? process.env;
  // Read-only twice over: the server offers only the view's tools, and runs as TALOS_MCP_READ_ONLY would.
  const readOnly = { ...config, readOnly: true, profile: "readonly" as const };
  const sessions = new Sessions(readOnly, env);
  sessions.context(opts.context); // an unknown or disallowed context fails here, before anything listens
  const tools = ALL_TOOLS.filter((t) => VIEW_TOOLS.includes(t.name) && t.annotations.readOnlyHint);
  const { server } = createServer({
    config: readOnly,
    tools,
    env,
    sessions,
    defaultContext: opts.context,
    policy: opts.policy,
    caller: DASHBOARD_CALLER,
  });
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "talos-mcp-dashboard", version: "1" });
  await client.connect(clientSide);

  const token = randomBytes(24).toString("base64url");
  const csp = contentSecurityPolicy(CLUSTER_VIEW_HTML);
  let origins: string[] = [];

  const call = async (req: Request): Promise<Response> => {
    if (!bearerMatches(req.headers.get("authorization"), token)) return json(401, { error: "missing or wrong token" });
    if (!/^application\/json\b/i.test(req.headers.get("content-type") ?? "")) {
      return json(415, { error: "send application/json" });
    }
    const raw = await req.text();
    if (raw.length > MAX_BODY_BYTES) return json(413, { error: `body over ${MAX_BODY_BYTES} bytes` });
    let body: { name?: unknown; arguments?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      return json(400, { error: "body is not JSON" });
    }
    const name = typeof body?.name === "string" ? body.name : "";
    if (!VIEW_TOOLS.includes(name)) {
      return json(403, { error: `${name || "(no name)"} is not one of the read-only tools the dashboard runs` });
    }
    const args = body.arguments ?? {};
    if (typeof args !== "object" || Array.isArray(args) || args === null) {
      return json(400, { error: "arguments must be an object" });
    }
    try {
      return json(200, await client.callTool({ name, arguments: args as Record<string, unknown> }));
    } catch (err) {
      return json(err instanceof McpError ? 400 : 500, { error: messageOf(err) });
    }
  };

  const http = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    fetch: (req) => {
      // Against DNS rebinding: a page on another name that resolves to 127.0.0.1 sends its own Host/Origin.
      const origin = req.headers.get("origin");
      if (!origins.includes(`http://${req.headers.get("host")}`) || (origin !== null && !origins.includes(origin))) {
        return json(403, { error: "this dashboard answers only to http://127.0.0.1 and http://localhost" });
      }
      const url = new URL(req.url);
      if (url.pathname === "/" && req.method === "GET") {
        if (!secretEquals(url.searchParams.get("token"), token)) {
          return new Response("Open the URL talos-mcp dashboard printed: it carries the access token.\n", {
            status: 401,
            headers: { "content-type": "text/plain; charset=utf-8" },
          });
        }
        return new Response(CLUSTER_VIEW_HTML, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": csp,
            "cache-control": "no-store",
            "referrer-policy": "no-referrer",
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
          },
        });
      }
      if (url.pathname === "/call" && req.method === "POST") return call(req);
      return json(404, { error: "not found" });
    },
  });
  const port = http.port!;
  origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    stop: async () => {
      await http.stop(true);
      await client.close().catch(() => {});
      sessions.close();
    },
  };
}

/** `talos-mcp dashboard [--context X]`: prints the URL, serves until SIGINT/SIGTERM. Returns an exit code on failure. */
export async function runDashboard(
  config: Readonly<Config>,
  argv: string[],
  policy?: PolicySource,
): Promise<number | undefined> {
  let context: string | undefined;
  try {
    context = parseArgs({ args: argv, options: { context: { type: "string" } }, strict: true }).values.context;
  } catch (err) {
    process.stderr.write(`talos-mcp dashboard: ${messageOf(err)}; usage: talos-mcp dashboard [--context X]\n`);
    return 2;
  }
  let dash: Dashboard;
  try {
    dash = await startDashboard(config, { context, policy });
  } catch (err) {
    process.stderr.write(`talos-mcp dashboard: ${messageOf(err)}\n`);
    return 1;
  }
  process.stdout.write(
    `talos-mcp dashboard: open ${dash.url}\n` +
      `(loopback only; the token in the URL is required; read-only tools only; Ctrl-C stops it)\n`,
  );
  const stop = async () => {
    await dash.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  return undefined;
}
