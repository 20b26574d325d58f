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
import { assertMayUse, mayUse } from "./guards/roles.ts";
import { type CallResult, errorResult, okResult } from "./format.ts";
import { registerCompletion } from "./completion.ts";
import { log, setMcpSink } from "./log.ts";
import { registerPrompts } from "./prompts.ts";
import { registerResources } from "./resources.ts";
import { Sessions } from "./talos/session.ts";
import type { ToolContext, ToolSpec } from "./tools/define.ts";
import { toolSchemas } from "./tools/schema.ts";
import { VERSION } from "./version.ts";
import { warmUp } from "./warmup.ts";

const INSTRUCTIONS =
  `Tools for Talos Linux clusters over the Talos API. Every tool takes an optional context (cluster) and nodes (default: the context's nodes); results list each node with its data or its error.
Start broad: talos_node_summary answers "what is wrong" for every node in one call; talos_contexts lists the clusters. For any other state, call talos_resource_definitions once, then talos_get with a type or alias from it. COSI resources are also MCP resources (talos://<context>/nodes/<node>/<type>/<id>) you can subscribe to.`;

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
    {
      capabilities: {
        tools: {},
        logging: {},
        resources: { subscribe: true },
        prompts: {},
        completions: {},
      },
      instructions: INSTRUCTIONS,
    },
  );
  const sessions = new Sessions(config, env);
  const stopWatches = registerResources(server, config, sessions);
  registerPrompts(server);
  registerCompletion(server, sessions);
  const listed = listedTools(config, tools);
  const byName = new Map(listed.map((t) => [t.name, t]));
  const described = new Map<string, Tool[]>();

  server.setRequestHandler(ListToolsRequestSchema, () => {
    // tools/list has no context argument: offer what the default context's certificate can use.
    const roles = defaultRoles(sessions);
    const key = roles?.join(",") ?? "*";
    let out = described.get(key);
    if (!out) described.set(key, out = listed.filter((t) => !roles || mayUse(t, roles)).map(describe));
    return { tools: out };
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
    const roleRefusal = checkRoles(tool, parsed.output as { context?: string }, sessions);
    if (roleRefusal) return errorResult(roleRefusal);
    const confirmRefusal = minimalConfirmCheck(tool, parsed.output as { confirm?: boolean; nodes?: string[] });
    if (confirmRefusal) return errorResult(confirmRefusal);

    const progressToken = extra._meta?.progressToken;
    const ctx: ToolContext = {
      config,
      session: (context) => sessions.get(context),
      talosconfig: () => sessions.file(),
      resolveContext: (context) => sessions.context(context),
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
      return okResult(value, config.maxOutputBytes);
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
    stopWatches();
    setMcpSink(undefined);
    sessions.close();
  };
  return { server, sessions };
}

/**
 * Minimal stand-in for issue 4's confirm guard (the lead reconciles the two):
 * a `confirm: true` tool runs only with confirm === true and explicit nodes.
 */
function minimalConfirmCheck(tool: ToolSpec, args: { confirm?: boolean; nodes?: string[] }): string | undefined {
  if (!tool.confirm) return undefined;
  if (!args.nodes?.length) return `${tool.name} changes nodes: name them explicitly in nodes.`;
  if (args.confirm !== true) {
    return `${tool.name} changes ${
      args.nodes.join(", ")
    }: call it again with confirm: true to proceed. Nothing was done.`;
  }
  return undefined;
}

/** The default context's certificate roles, or undefined when no talosconfig can be read yet. */
function defaultRoles(sessions: Sessions): readonly string[] | undefined {
  try {
    return sessions.context().cert.roles;
  } catch {
    return undefined; // list everything; the calls will explain the talosconfig problem
  }
}

/** A tool whose RPCs the chosen context's certificate may not call is refused before any RPC. */
function checkRoles(tool: ToolSpec, args: { context?: string }, sessions: Sessions): string | undefined {
  if (tool.rpcs?.length === 0) return undefined; // makes no API call
  try {
    assertMayUse(tool, sessions.context(args.context));
    return undefined;
  } catch (err) {
    if (err instanceof ToolError && err.code === "PERMISSION_DENIED") return err.message;
    return undefined; // talosconfig problems surface from the tool's own session call
  }
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
