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
import { assertMayUse, mayUse } from "./guards/roles.ts";
import { type CallResult, errorResult, okResult } from "./format.ts";
import { askHuman, consentMessage } from "./guards/elicit.ts";
import { auditLine, type Outcome, outcomeOf } from "./guards/audit.ts";
import { confirmRefusal } from "./guards/confirm.ts";
import { quorumRefusal } from "./guards/quorum.ts";
import { upgradePathRefusal } from "./guards/upgrade_path.ts";
import { audit, type Level, log, setMcpSink } from "./log.ts";
import { etcdView } from "./talos/etcd_health.ts";
import { nodeVersions } from "./talos/node_versions.ts";
import { targetNodes } from "./talos/session.ts";
import { registerCompletion } from "./completion.ts";
import { registerPrompts } from "./prompts.ts";
import { registerResources } from "./resources.ts";
import { checkPath, PathError } from "./guards/paths.ts";
import { maskValue } from "./secrets.ts";
import { Sessions } from "./talos/session.ts";
import type { ToolContext, ToolSpec } from "./tools/define.ts";
import { toolSchemas } from "./tools/schema.ts";
import { VERSION } from "./version.ts";
import { warmUp } from "./warmup.ts";

const INSTRUCTIONS =
  `Tools for Talos Linux clusters over the Talos API. Every tool takes an optional context (cluster) and nodes (default: the context's nodes); results list each node with its data or its error.
Start broad: talos_node_summary answers "what is wrong" for every node in one call; talos_contexts lists the clusters. talos_version and talos_services show what runs where. For any other state, call talos_resource_definitions once, then talos_get with a type or alias from it. COSI resources are also MCP resources (talos://<context>/nodes/<node>/<type>/<id>) you can subscribe to.
Tools that change nodes need explicit nodes and confirm: true: tell the user what will happen on which nodes and set confirm only when they agree. Run talos_patch_config as a dry run first and show the diff.`;

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
  const sessions = shared ?? new Sessions(config, env);
  const stopWatches = registerResources(server, config, sessions);
  registerPrompts(server);
  registerCompletion(server, sessions);
  const listed = listedTools(config, tools);
  const byName = new Map(listed.map((t) => [t.name, t]));

  server.setRequestHandler(ListToolsRequestSchema, () => {
    // tools/list has no context argument: offer what the default context's certificate can use.
    const roles = defaultRoles(sessions, defaultContext);
    return { tools: listed.filter((t) => !roles || mayUse(t, roles)).map(describe) };
  });

  const callTool = async (req: CallToolRequest, extra: Extra): Promise<CallResult> => {
    const name = req.params.name;
    const raw = (req.params.arguments ?? {}) as Record<string, unknown>;
    const tool = byName.get(name);
    if (!tool) {
      const hidden = tools.find((t) => t.name === name);
      if (hidden) {
        writeAudit(config, hidden, raw, "denied");
        return errorResult(
          `${name} is not available: this server runs read-only (TALOS_MCP_READ_ONLY=true), so no tool that ` +
            `changes a cluster is offered.`,
        );
      }
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool ${name}; call tools/list for the available tools.`);
    }

    const progressToken = extra._meta?.progressToken;
    const deadline = callDeadlineMs ? new Deadline(callDeadlineMs, extra.signal) : undefined;
    const ctx: ToolContext = {
      config,
      session: (context) => sessions.get(context ?? defaultContext),
      talosconfig: () => sessions.file(),
      resolveContext: (context) => sessions.context(context ?? defaultContext),
      signal: deadline?.signal ?? extra.signal,
      progress: async (progress, total, message) => {
        if (progressToken === undefined) return;
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress, total, message },
        }).catch(() => {});
      },
    };
    const call: GuardCall = { tool, raw, args: {}, ctx, server, sessions };
    const mutating = isMutating(tool);
    try {
      for (const [, guard] of GUARDS) {
        const refusal = await guard(call);
        if (refusal !== undefined) {
          if (mutating) writeAudit(config, tool, raw, "denied");
          return errorResult(refusal);
        }
      }
      const running = tool.run(call.args as never, ctx);
      const value = await (deadline ? deadline.race(running, name) : running);
      if (mutating) writeAudit(config, tool, raw, outcomeOf(value));
      // Defence in depth: whatever a tool returns passes the masker (tools also mask what they know best).
      return okResult(config.showSecrets ? value : maskValue(value), config.maxOutputBytes);
    } catch (err) {
      if (mutating) writeAudit(config, tool, raw, "error");
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

/** What a guard sees: the tool, its raw and (once validated) parsed arguments, and the server. */
interface GuardCall {
  tool: ToolSpec;
  raw: Record<string, unknown>;
  args: Record<string, unknown>;
  ctx: ToolContext;
  server: Server;
  sessions: Sessions;
}

/** A guard returns why it refuses the call, or undefined to let it go on. */
type Guard = (call: GuardCall) => Promise<string | undefined>;

/**
 * Every tool call passes these steps in this order; the first refusal ends the
 * call as "denied" (audited for mutating tools). The cheap, local checks come
 * first so that a refusal by them sends no RPC at all; the etcd and version
 * checks send only reads. Add new steps here, not in tools.
 */
const GUARDS: ReadonlyArray<readonly [string, Guard]> = [
  // 1. confirm: true (the boolean) and explicit nodes, on the raw arguments: "true" as a string is no consent.
  ["confirm", (c) => Promise.resolve(confirmRefusal(c.tool, c.raw))],
  // 2. Schema, then argument combinations the tool declares (e.g. Talos' service rules).
  ["arguments", (c) => Promise.resolve(validateArgs(c))],
  // 3. Remote paths normalised and inside TALOS_MCP_ALLOWED_PATHS (lib/guards/paths.ts).
  ["paths", (c) => Promise.resolve(guardPaths(c.tool, c.args, c.ctx.config.allowedPaths))],
  // 4. The chosen context's certificate carries a role the tool's RPCs need (lib/talos/rbac.ts).
  ["roles", (c) => Promise.resolve(checkRoles(c.tool, c.args as { context?: string }, c.ctx))],
  // 5. The human, when the client supports elicitation (no RPC before consent).
  ["human consent", humanConsent],
  // 6. One minor version per upgrade step (Version RPC per node).
  ["upgrade path", upgradePath],
  // 7. etcd keeps quorum (EtcdMemberList + EtcdStatus).
  ["etcd quorum", etcdQuorum],
];

const isMutating = (t: ToolSpec) => !!t.confirm || !t.annotations.readOnlyHint;

/** Whether this call would change something (a confirm tool, not in dry-run). */
const acts = (c: GuardCall) => !!c.tool.confirm && !c.tool.dryRun?.(c.args as never);

function writeAudit(config: Readonly<Config>, tool: ToolSpec, raw: Record<string, unknown>, outcome: Outcome) {
  const nodes = Array.isArray(raw.nodes) ? raw.nodes : [];
  audit(auditLine({ tool: tool.name, nodes, outcome, args: raw, showSecrets: config.showSecrets }));
}

function validateArgs(c: GuardCall): string | undefined {
  const parsed = v.safeParse(toolSchemas(c.tool).input, c.raw);
  if (!parsed.success) return describeIssues(c.tool, parsed.issues);
  c.args = parsed.output as Record<string, unknown>;
  try {
    c.tool.check?.(c.args as never);
  } catch (err) {
    if (err instanceof ToolError) return err.message;
    throw err;
  }
  return undefined;
}

async function humanConsent(c: GuardCall): Promise<string | undefined> {
  if (!acts(c)) return undefined;
  const nodes = c.args.nodes as string[];
  const action = c.tool.action?.(c.args as never) ?? c.tool.description.split(". ")[0];
  const answer = await askHuman(
    c.server,
    consentMessage(c.tool.name, action, nodes, c.args.context as string | undefined),
    c.ctx.signal,
  );
  if (answer === "accept" || answer === "unsupported") return undefined;
  if (answer === "failed") {
    return `Could not get the user's consent for ${c.tool.name} (the question failed or timed out). ` +
      `Nothing was sent.`;
  }
  return `The user ${answer === "decline" ? "declined" : "cancelled"} ${c.tool.name} on ${nodes.join(", ")}. ` +
    `Nothing was sent; do not retry unless they ask.`;
}

async function upgradePath(c: GuardCall): Promise<string | undefined> {
  const image = acts(c) ? c.tool.upgradeImage?.(c.args as never) : undefined;
  if (!image || c.ctx.config.skipVersionCheck) return undefined;
  const session = await c.ctx.session(c.args.context as string | undefined);
  const versions = await nodeVersions(session, c.args.nodes as string[], c.ctx.signal);
  return upgradePathRefusal(versions, image);
}

async function etcdQuorum(c: GuardCall): Promise<string | undefined> {
  const impact = acts(c) ? c.tool.etcdImpact?.(c.args as never) : undefined;
  if (!impact) return undefined;
  const session = await c.ctx.session(c.args.context as string | undefined);
  const targets = c.args.nodes as string[];
  const candidates = [...new Set([...targets, ...targetNodes(session.ctx)])];
  const view = await etcdView(session, candidates, c.ctx.signal, targets);
  return quorumRefusal(view, targets, impact, `${c.tool.name} on`);
}

/** The default context's certificate roles, or undefined when no talosconfig can be read yet. */
function defaultRoles(sessions: Sessions, defaultContext?: string): readonly string[] | undefined {
  try {
    return sessions.context(defaultContext).cert.roles;
  } catch {
    return undefined; // list everything; the calls will explain the talosconfig problem
  }
}

/** A tool whose RPCs the chosen context's certificate may not call is refused before any RPC. */
function checkRoles(tool: ToolSpec, args: { context?: string }, ctx: ToolContext): string | undefined {
  if (tool.rpcs?.length === 0) return undefined; // makes no API call
  try {
    assertMayUse(tool, ctx.resolveContext(args.context));
    return undefined;
  } catch (err) {
    if (err instanceof ToolError && err.code === "PERMISSION_DENIED") return err.message;
    return undefined; // talosconfig problems surface from the tool's own session call
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
  const allowed = Object.keys((toolSchemas(tool).input as unknown as { entries: object }).entries);
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
