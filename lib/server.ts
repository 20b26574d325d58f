/**
 * @module The MCP server: lists the tools the policy allows, and runs each
 * call through one path — guards (lib/guards/pipeline.ts), run under the
 * call's deadline, audit, mask, bound and format the result.
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
import { registerCompletion } from "./completion.ts";
import type { Config } from "./config.ts";
import { Deadline } from "./deadline.ts";
import { messageOf, ToolError } from "./errors.ts";
import { allNodesFailed, type CallResult, errorResult, nodesFailedResult, okResult } from "./format.ts";
import { auditLine, type Outcome, outcomeOf } from "./guards/audit.ts";
import { type GuardCall, isMutating, runGuards } from "./guards/pipeline.ts";
import { mayUse } from "./guards/roles.ts";
import { audit, type Level, log, setMcpSink, withCaller } from "./log.ts";
import type { PolicySource } from "./guards/policy_source.ts";
import { type Access, accessFor, type Caller, STDIO_CALLER, toolRefusal } from "./policy/access.ts";
import { MonotonicProgress } from "./progress.ts";
import { registerPrompts } from "./prompts.ts";
import { registerResources } from "./resources.ts";
import { maskText, maskValue } from "./secrets.ts";
import { Sessions } from "./talos/session.ts";
import { riskOf, type ToolContext, type ToolSpec } from "./tools/define.ts";
import { TOOLSET_OF } from "./tools/toolsets.ts";
import { toolSchemas } from "./tools/schema.ts";
import { VERSION } from "./version.ts";
import { warmUp } from "./warmup.ts";

/**
 * Read once per session by the model. What every tool shares (the context and nodes parameters, the per-node
 * result entry, the truncated and outage notes, confirm) is said here once instead of in each tool's schema
 * (lib/tools/schema.ts), which keeps tools/list small.
 */
const INSTRUCTIONS = `Tools for Talos Linux clusters over the Talos API.
Parameters every tool shares: context, the talosconfig context (cluster) to use (default: the current one; talos_contexts lists them); nodes, the IPs or hostnames to target (default: the context's nodes).
Per-node results are {nodes: [{node, hostname?, error?, code?, ...data}]}: each node with its data or its error, so one failing node never hides the others. more: true on an entry means its list stopped at a limit. A result may carry truncated (what was cut and how to ask for the rest) and outage (etcd and the Kubernetes API went down because the cluster is too small to avoid it).
Start broad: talos_node_summary answers "what is wrong" for every node in one call. talos_version and talos_services show what runs where. For any other state, call talos_resource_definitions once, then talos_get with a type or alias from it. COSI resources are also MCP resources (talos://<context>/nodes/<node>/<type>/<id>) you can subscribe to.
Tools that change nodes need explicit nodes and confirm: true (anything else refuses without touching a node): tell the user what will happen on which nodes and set confirm only when they agree. Run talos_patch_config as a dry run first and show the diff.`;

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
  /** Who is calling (HTTP: from the token); default stdio. Named in audit and log lines, matched to grants. */
  caller?: Caller;
  /** The policy file in force (TALOS_MCP_POLICY), consulted at each request so a reload applies at once. */
  policy?: PolicySource;
}

export function createServer(
  {
    config,
    tools,
    env = process.env,
    sessions: shared,
    defaultContext,
    callDeadlineMs,
    callScope,
    caller = STDIO_CALLER,
    policy,
  }: ServerOptions,
): { server: Server; sessions: Sessions } {
  const server = new Server(
    { name: "talos-mcp", title: "Talos Linux", version: VERSION },
    {
      capabilities: {
        tools: { listChanged: !!policy && !shared },
        logging: {},
        resources: { subscribe: !shared },
        prompts: {},
        completions: {},
      },
      instructions: INSTRUCTIONS,
    },
  );
  const sessions = shared ?? new Sessions(config, env);
  const stopWatches = registerResources(server, config, sessions, { subscriptions: !shared });
  registerPrompts(server);
  registerCompletion(server, sessions);
  // Decided per request: the policy in force may have been reloaded since the last one.
  const access = (): Access => accessFor(policy?.current(), config.profile, caller);
  const byName = new Map(tools.map((t) => [t.name, t]));

  server.setRequestHandler(ListToolsRequestSchema, () => {
    // tools/list has no context argument: offer what the default context's certificate can use.
    const roles = defaultRoles(sessions, defaultContext);
    const a = access();
    return {
      tools: tools.filter((t) => !toolRefusal(a, t.name, riskOf(t)) && (!roles || mayUse(t, roles)))
        .map((t) => describe(t, config.enableInsecure)),
    };
  });

  // Error texts carry node answers and echoed arguments: they pass the masker too, like results do.
  const mask = (text: string) => (config.showSecrets ? text : maskText(text));
  const fail = (message: string) => errorResult(mask(message));

  const callTool = async (req: CallToolRequest, extra: Extra): Promise<CallResult> => {
    const name = req.params.name;
    const raw = (req.params.arguments ?? {}) as Record<string, unknown>;
    const tool = byName.get(name);
    const a = access();
    const refused = tool && toolRefusal(a, name, riskOf(tool));
    if (tool && refused) {
      writeAudit(config, caller, tool, raw, "denied");
      if (config.readOnly && riskOf(tool) !== "read") {
        return errorResult(
          `${name} is not available: this server runs read-only (TALOS_MCP_READ_ONLY=true) or with profile ` +
            `readonly (TALOS_MCP_PROFILE), so no tool that changes a cluster is offered.`,
        );
      }
      return errorResult(`${name} is not available: ${refused}. Nothing was sent.`);
    }
    if (!tool) {
      const set = TOOLSET_OF[name];
      if (set && config.disabledTools.includes(name)) {
        return errorResult(
          `${name} is disabled on this server (TALOS_MCP_DISABLED_TOOLS / --disabled-tools); the user can remove ` +
            `it from that list to offer it.`,
        );
      }
      if (set) {
        // Keep what the user chose and add the missing set, or name just this tool.
        const sets = [...new Set([...(config.toolsets.length ? config.toolsets : ["default"]), set])].join(",");
        return errorResult(
          `${name} is not enabled on this server: it is in the ${set} toolset. The user can start the server ` +
            `with TALOS_MCP_TOOLSETS=${sets} (--toolsets ${sets}), or add just this tool with --tools ${name}.`,
        );
      }
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool ${name}; call tools/list for the available tools.`);
    }

    const progressToken = extra._meta?.progressToken;
    const deadline = callDeadlineMs ? new Deadline(callDeadlineMs, extra.signal) : undefined;
    const steps = new MonotonicProgress();
    const ctx: ToolContext = {
      config,
      session: (context) => sessions.get(context ?? defaultContext),
      talosconfig: () => sessions.file(),
      resolveContext: (context) => sessions.context(context ?? defaultContext),
      signal: deadline?.signal ?? extra.signal,
      progress: async (reported, total, message) => {
        if (progressToken === undefined) return;
        const progress = steps.next(reported, total);
        if (progress === undefined) return;
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress, total, message },
        }).catch(() => {});
      },
    };
    const call: GuardCall = { tool, raw, args: {}, ctx, server, sessions, access: a };
    const mutating = isMutating(tool);
    try {
      const refusal = await runGuards(call);
      if (refusal !== undefined) {
        if (mutating) writeAudit(config, caller, tool, raw, "denied");
        return fail(refusal);
      }
      const running = tool.run(call.args as never, ctx);
      const value = await (deadline ? deadline.race(running, name) : running);
      if (call.outage && value.outage === undefined) value.outage = call.outage;
      if (mutating) writeAudit(config, caller, tool, raw, outcomeOf(value));
      // Defence in depth: whatever a tool returns passes the masker (tools also mask what they know best).
      const shown = config.showSecrets ? value : maskValue(value);
      // Every targeted node failed: an error, not a success with errors inside (partial success is not one).
      if (allNodesFailed(shown)) return nodesFailedResult(shown, config.maxOutputBytes);
      return okResult(shown, config.maxOutputBytes);
    } catch (err) {
      if (mutating) writeAudit(config, caller, tool, raw, "error");
      if (err instanceof McpError) throw err;
      if (err instanceof ToolError) return fail(err.message);
      log("error", `${name} failed: ${(err as Error)?.stack ?? messageOf(err)}`);
      return fail(`internal error in ${name}: ${messageOf(err)}. This is a bug in talos-mcp; the log has details.`);
    } finally {
      deadline?.clear();
    }
  };
  // Every log line a call raises names its caller (lib/log.ts), on stderr and in MCP log notifications.
  const called = (req: CallToolRequest, extra: Extra) => withCaller(caller.id, () => callTool(req, extra));
  server.setRequestHandler(
    CallToolRequestSchema,
    callScope
      ? (req, extra) => callScope((level, data) => notifyLog(extra, level, data), () => called(req, extra))
      : called,
  );

  if (shared) {
    server.onclose = stopWatches;
    return { server, sessions };
  }
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

/** A log line as a notification tied to the request, so a streamable HTTP server sends it on that request's stream. */
function notifyLog(extra: Extra, level: Level, data: string): void {
  extra.sendNotification({ method: "notifications/message", params: { level, logger: "talos-mcp", data } })
    .catch(() => {});
}

function writeAudit(
  config: Readonly<Config>,
  caller: Caller,
  tool: ToolSpec,
  raw: Record<string, unknown>,
  outcome: Outcome,
) {
  if (!isMutating(tool) && outcome !== "denied") return;
  const nodes = Array.isArray(raw.nodes) ? raw.nodes : [];
  audit(auditLine({ caller: caller.id, tool: tool.name, nodes, outcome, args: raw, showSecrets: config.showSecrets }));
}

/** The default context's certificate roles, or undefined when no talosconfig can be read yet. */
function defaultRoles(sessions: Sessions, defaultContext?: string): readonly string[] | undefined {
  try {
    return sessions.context(defaultContext).cert.roles;
  } catch {
    return undefined; // list everything; the calls will explain the talosconfig problem
  }
}

const described = [new WeakMap<ToolSpec, Tool>(), new WeakMap<ToolSpec, Tool>()];

/** The tool as tools/list shows it; `insecure`: with the maintenance-mode arguments. */
function describe(tool: ToolSpec, insecure: boolean): Tool {
  const memo = described[insecure ? 1 : 0];
  let d = memo.get(tool);
  if (!d) memo.set(tool, d = describeOnce(tool, insecure));
  return d;
}

function describeOnce(tool: ToolSpec, insecure: boolean): Tool {
  const { inputJson, outputJson } = toolSchemas(tool, insecure);
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: inputJson as Tool["inputSchema"],
    outputSchema: outputJson as Tool["outputSchema"],
    annotations: annotationsOf(tool),
    // MCP Apps: the view that renders the result. The flat "ui/resourceUri" key is the older form of the same
    // link, still read by hosts built before the extension settled on `ui.resourceUri`.
    ...(tool.view ? { _meta: { ui: { resourceUri: tool.view }, "ui/resourceUri": tool.view } } : {}),
  };
}

/**
 * MCP says destructiveHint and idempotentHint mean something only when readOnlyHint is false, and openWorldHint
 * defaults to true: a read-only tool says just that. Tools that change anything spell out all four hints.
 */
function annotationsOf(tool: ToolSpec): Tool["annotations"] {
  const a = tool.annotations;
  return a.readOnlyHint && a.openWorldHint ? { readOnlyHint: true } : { ...a };
}
