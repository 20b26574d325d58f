/**
 * @module The MCP server: lists the tools the policy allows, and runs each
 * call through one path — validate arguments, run, bound and format the
 * result. Guards live here, not in the tools.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import * as v from "valibot";
import type { Config } from "./config.ts";
import { messageOf, ToolError } from "./errors.ts";
import { type CallResult, errorResult, okResult } from "./format.ts";
import { checkPath, PathError } from "./guards/paths.ts";
import { log, setMcpSink } from "./log.ts";
import { maskValue } from "./secrets.ts";
import { Sessions } from "./talos/session.ts";
import type { ToolContext, ToolSpec } from "./tools/define.ts";
import { toolSchemas } from "./tools/schema.ts";
import { VERSION } from "./version.ts";
import { warmUp } from "./warmup.ts";

const INSTRUCTIONS =
  `Tools for Talos Linux clusters over the Talos API. Every tool takes an optional context (cluster) and nodes (default: the context's nodes); results list each node with its data or its error.
Start broad: talos_version and talos_services show what runs where. For any other state, call talos_resource_definitions once, then talos_get with a type or alias from it.`;

export interface ServerOptions {
  config: Readonly<Config>;
  tools: readonly ToolSpec[];
  env?: Record<string, string | undefined>;
}

/** Tools the policy lets this server offer. */
export function listedTools(config: Readonly<Config>, tools: readonly ToolSpec[]): ToolSpec[] {
  return tools.filter((t) => !config.readOnly || t.annotations.readOnlyHint);
}

export function createServer(
  { config, tools, env = process.env }: ServerOptions,
): { server: Server; sessions: Sessions } {
  const server = new Server(
    { name: "talos-mcp", title: "Talos Linux", version: VERSION },
    { capabilities: { tools: {}, logging: {} }, instructions: INSTRUCTIONS },
  );
  const sessions = new Sessions(config, env);
  const listed = listedTools(config, tools);
  const byName = new Map(listed.map((t) => [t.name, t]));
  let described: Tool[] | undefined;

  server.setRequestHandler(ListToolsRequestSchema, () => {
    described ??= listed.map(describe);
    return { tools: described };
  });

  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallResult> => {
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
    const refused = guardPaths(tool, parsed.output as Record<string, unknown>, config.allowedPaths);
    if (refused) return errorResult(refused);

    const progressToken = extra._meta?.progressToken;
    const ctx: ToolContext = {
      config,
      session: (context) => sessions.get(context),
      signal: extra.signal,
      progress: async (progress, total, message) => {
        if (progressToken === undefined) return;
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress, total, message },
        }).catch(() => {});
      },
    };
    try {
      const value = await tool.run(parsed.output as never, ctx);
      // Defence in depth: whatever a tool returns passes the masker (tools also mask what they know best).
      return okResult(config.showSecrets ? value : maskValue(value), config.maxOutputBytes);
    } catch (err) {
      if (err instanceof ToolError) return errorResult(err.message);
      log("error", `${name} failed: ${(err as Error)?.stack ?? messageOf(err)}`);
      return errorResult(
        `internal error in ${name}: ${messageOf(err)}. This is a bug in talos-mcp; the log has details.`,
      );
    }
  });

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

function describe(tool: ToolSpec): Tool {
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

/**
 * The path allowlist, before any RPC: each argument the tool declares as a
 * path is normalised in place, or the call is refused with the reason.
 */
function guardPaths(tool: ToolSpec, args: Record<string, unknown>, allowed: readonly string[]): string | undefined {
  for (const key of tool.paths ?? []) {
    if (args[key] === undefined) continue;
    try {
      args[key] = checkPath(String(args[key]), allowed);
    } catch (err) {
      if (err instanceof PathError) return `${tool.name} refused ${key}: ${err.message}`;
      throw err;
    }
  }
  return undefined;
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
