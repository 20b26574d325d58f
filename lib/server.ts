/**
 * @module The MCP server: lists the tools the policy allows, and runs each
 * call through one path — validate arguments, run, bound and format the
 * result. Guards live here, not in the tools.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  type CallToolRequest,
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import * as v from "valibot";
import type { Config } from "./config.ts";
import { messageOf, ToolError } from "./errors.ts";
import { type CallResult, errorResult, okResult } from "./format.ts";
import { type Level, log, setMcpSink } from "./log.ts";
import { Sessions } from "./talos/session.ts";
import type { ToolContext, ToolSpec } from "./tools/define.ts";
import { toolSchemas } from "./tools/schema.ts";
import { VERSION } from "./version.ts";
import { warmUp } from "./warmup.ts";

const INSTRUCTIONS =
  `Tools for Talos Linux clusters over the Talos API. Every tool takes an optional context (cluster) and nodes (default: the context's nodes); results list each node with its data or its error.
Start broad: talos_version and talos_services show what runs where. For any other state, call talos_resource_definitions once, then talos_get with a type or alias from it.`;

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ServerOptions {
  config: Readonly<Config>;
  tools: readonly ToolSpec[];
  env?: Record<string, string | undefined>;
  /**
   * Shared Talos sessions (HTTP: one per process, many short-lived servers). When given, this
   * server neither warms up, nor mirrors the process log, nor closes the sessions on close.
   */
  sessions?: Sessions;
  /** Context for calls that name none (HTTP: the X-Talos-Context header). */
  defaultContext?: string;
  /** Deadline for one tool call, ms; past it the call fails with a JSON-RPC RequestTimeout error. */
  callDeadlineMs?: number;
  /** Runs each tool call with `notify` as its log sink (HTTP: log lines go out on the call's SSE stream). */
  callScope?: <T>(notify: (level: Level, message: string) => void, run: () => Promise<T>) => Promise<T>;
}

/** Tools the policy lets this server offer. */
export function listedTools(config: Readonly<Config>, tools: readonly ToolSpec[]): ToolSpec[] {
  return tools.filter((t) => !config.readOnly || t.annotations.readOnlyHint);
}

export function createServer(
  { config, tools, env = process.env, sessions: shared, defaultContext, callDeadlineMs, callScope }: ServerOptions,
): { server: Server; sessions: Sessions } {
  const server = new Server(
    { name: "talos-mcp", title: "Talos Linux", version: VERSION },
    { capabilities: { tools: {}, logging: {} }, instructions: INSTRUCTIONS },
  );
  const sessions = shared ?? new Sessions(config, env);
  const listed = listedTools(config, tools);
  const byName = new Map(listed.map((t) => [t.name, t]));

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed.map(describe) }));

  const callTool = async (req: CallToolRequest, extra: Extra): Promise<CallResult> => {
    const name = req.params.name;
    const tool = byName.get(name);
    if (!tool) {
      const hidden = tools.find((t) => t.name === name);
      if (hidden) {
        return errorResult(
          `${name} is not available: this server runs read-only (TALOS_MCP_READ_ONLY=true), so no tool that ` +
            `changes a cluster is offered.`,
        );
      }
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool ${name}; call tools/list for the available tools.`);
    }
    const parsed = v.safeParse(toolSchemas(tool).input, req.params.arguments ?? {});
    if (!parsed.success) return errorResult(describeIssues(tool, parsed.issues));

    const progressToken = extra._meta?.progressToken;
    const deadline = callDeadlineMs ? new Deadline(callDeadlineMs, extra.signal) : undefined;
    const signal = deadline?.signal ?? extra.signal;
    const ctx: ToolContext = {
      config,
      session: (context) => sessions.get(context ?? defaultContext),
      signal,
      progress: async (progress, total, message) => {
        if (progressToken === undefined) return;
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress, total, message },
        }).catch(() => {});
      },
    };
    try {
      const running = tool.run(parsed.output as never, ctx);
      const value = await (deadline ? deadline.race(running, name) : running);
      return okResult(value, config.maxOutputBytes);
    } catch (err) {
      if (err instanceof McpError) throw err;
      if (err instanceof ToolError) return errorResult(err.message);
      log("error", `${name} failed: ${(err as Error)?.stack ?? messageOf(err)}`);
      return errorResult(
        `internal error in ${name}: ${messageOf(err)}. This is a bug in talos-mcp; the log has details.`,
      );
    } finally {
      deadline?.clear();
    }
  };
  server.setRequestHandler(
    CallToolRequestSchema,
    callScope
      ? (req, extra) => callScope((level, data) => notifyLog(extra, level, data), () => callTool(req, extra))
      : callTool,
  );
  if (shared) return { server, sessions };

  server.oninitialized = () => {
    setMcpSink((level, message) => {
      server.sendLoggingMessage({ level, logger: "talos-mcp", data: message }).catch(() => {});
    });
    if (config.warmUp) setTimeout(() => void warmUp(sessions, config), 0);
  };
  server.onclose = () => {
    setMcpSink(undefined);
    sessions.close();
  };
  return { server, sessions };
}

/** A log line as a notification tied to the request, so a streamable HTTP server sends it on that request's stream. */
function notifyLog(extra: Extra, level: Level, data: string): void {
  extra.sendNotification({ method: "notifications/message", params: { level, logger: "talos-mcp", data } })
    .catch(() => {});
}

/**
 * A per-call deadline: aborts the tool's signal (so its Talos calls stop) and fails the call with
 * RequestTimeout. A plain timer, cleared when the call ends: AbortSignal.timeout would keep every
 * finished call's signal alive for the whole deadline, which under load is most of the heap.
 */
class Deadline {
  private readonly ac = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly onParentAbort = () => this.ac.abort(this.parent.reason);

  constructor(private readonly ms: number, private readonly parent: AbortSignal) {
    this.timer = setTimeout(() => this.ac.abort(new Error("deadline")), ms);
    parent.addEventListener("abort", this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  race<T>(running: Promise<T>, name: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = () =>
        reject(
          new McpError(
            ErrorCode.RequestTimeout,
            `${name} did not finish within ${this.ms} ms (TALOS_MCP_HTTP_CALL_DEADLINE_MS); ask for fewer nodes ` +
              `or less data, or raise the deadline.`,
          ),
        );
      if (this.ac.signal.aborted && !this.parent.aborted) return fail();
      this.ac.signal.addEventListener("abort", () => this.parent.aborted || fail(), { once: true });
      running.then(resolve, reject);
    });
  }

  clear(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener("abort", this.onParentAbort);
  }
}

const described = new WeakMap<ToolSpec, Tool>();

function describe(tool: ToolSpec): Tool {
  let d = described.get(tool);
  if (!d) described.set(tool, d = describeOnce(tool));
  return d;
}

function describeOnce(tool: ToolSpec): Tool {
  const { inputJson, outputJson } = toolSchemas(tool);
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: inputJson as Tool["inputSchema"],
    outputSchema: outputJson as Tool["outputSchema"],
    annotations: { title: tool.title, ...tool.annotations },
  };
}

/** Valibot issues as one line an agent can fix its call from. */
function describeIssues(tool: ToolSpec, issues: readonly v.BaseIssue<unknown>[]): string {
  const allowed = Object.keys(tool.input);
  const parts = issues.slice(0, 5).map((i) => {
    const path = i.path?.map((p) => String(p.key)).join(".") ?? "";
    if (i.kind === "schema" && i.type === "strict_object" && path) {
      return `unknown argument "${path}" (allowed: ${allowed.join(", ") || "none"})`;
    }
    const got = i.received && i.received.length <= 60 ? `, got ${i.received}` : "";
    return `${path || "arguments"}: ${i.message.replace(/^Invalid \w+: /, "")}${got}`;
  });
  return `Invalid arguments for ${tool.name}: ${parts.join("; ")}.`;
}
