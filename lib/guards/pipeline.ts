/**
 * @module The guard pipeline: the ordered checks every tool call passes before
 * its `run`. The one place guards are enforced; tools only declare facts.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { etcdView } from "../talos/etcd_health.ts";
import { nodeVersions } from "../talos/node_versions.ts";
import { type Sessions, targetNodes } from "../talos/session.ts";
import type { ToolContext, ToolSpec } from "../tools/define.ts";
import { isInsecureArg, toolSchemas } from "../tools/schema.ts";
import { confirmRefusal } from "./confirm.ts";
import { askHuman, consentMessage } from "./elicit.ts";
import { checkPath, PathError } from "../policy/paths.ts";
import { quorumVerdict } from "../talos/quorum.ts";
import type { Access } from "../policy/access.ts";
import { PROFILE_ABOUT, profileAllows, profileFor } from "../policy/profiles.ts";
import { policyRules } from "./policy.ts";
import { assertMayUse } from "./roles.ts";
import { upgradePathRefusal } from "./upgrade_path.ts";

/** What a guard sees: the tool, its raw and (once validated) parsed arguments, and the server. */
export interface GuardCall {
  tool: ToolSpec;
  raw: Record<string, unknown>;
  args: Record<string, unknown>;
  ctx: ToolContext;
  server: Server;
  sessions: Sessions;
  /** What the caller may do (lib/policy/access.ts); absent: no policy rules apply. */
  access?: Access;
  /** Set by the etcd guard when the call goes ahead at the cost of an etcd outage the cluster cannot avoid. */
  outage?: string;
}

/** A guard returns why it refuses the call, or undefined to let it go on. */
type Guard = (call: GuardCall) => Promise<string | undefined>;

const none = Promise.resolve(undefined);

/**
 * Every tool call passes these steps in this order; the first refusal ends the
 * call as "denied" (audited for mutating tools). The cheap, local checks come
 * first so that a refusal by them sends no RPC at all; the version and etcd
 * checks send only reads (and dry runs). Add new steps here, not in tools.
 */
const GUARDS: ReadonlyArray<readonly [string, Guard]> = [
  // 1. confirm: true (the boolean) and explicit nodes, on the raw arguments: "true" as a string is no consent.
  ["confirm", (c) => Promise.resolve(confirmRefusal(c.tool, c.raw))],
  // 2. Schema, then argument combinations the tool declares (e.g. Talos' service rules).
  ["arguments", (c) => Promise.resolve(validateArgs(c))],
  // 3. The profile allows this call's action, for tools whose actions differ in risk (riskFor).
  ["profile", (c) => Promise.resolve(actionRefusal(c))],
  // 4. Remote paths normalised and inside TALOS_MCP_ALLOWED_PATHS (lib/policy/paths.ts).
  ["paths", (c) => Promise.resolve(guardPaths(c.tool, c.args, c.ctx.config.allowedPaths))],
  // 5. The chosen context's certificate carries a role the tool's RPCs need (lib/talos/rbac.ts).
  ["roles", (c) => Promise.resolve(checkRoles(c.tool, c.args as { context?: string }, c.ctx))],
  // 6. The policy file's rules for this tool: contexts and nodes it may target (roles read from the nodes),
  //    config paths a change may not touch (the current config read and compared). Reads only, so after
  //    the local checks above: a call they refuse costs no RPC.
  ["policy rules", policyRules],
  // 7. One minor version per upgrade step (Version RPC per node).
  ["upgrade path", upgradePath],
  // 8. What the tool says must hold before it acts (reads only): etcd not yet bootstrapped, the same
  //    cluster. Before the etcd guard, whose dry runs would otherwise send a config this step refuses.
  //    For dry runs too: a dry run of a call that would be refused says so the same way.
  [
    "preconditions",
    (c) => c.tool.confirm && c.tool.preconditions ? c.tool.preconditions(c.args as never, c.ctx) : none,
  ],
  // 9. etcd keeps quorum (EtcdMemberList + EtcdStatus; a dry run where the impact depends on the change).
  //    Before consent: the human is never asked about a call that would be refused, and is told the outage
  //    a small cluster cannot avoid.
  ["etcd quorum", etcdQuorum],
  // 10. The human, when the client supports elicitation (reads only before consent, never a change).
  ["human consent", humanConsent],
];

/**
 * Runs the guards in order on `call`; on success `call.args` holds the parsed,
 * normalised arguments. Returns the first refusal, or undefined.
 */
export async function runGuards(call: GuardCall): Promise<string | undefined> {
  for (const [, guard] of GUARDS) {
    const refusal = await guard(call);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

/** Whether a tool can change something: its calls are audited. */
export const isMutating = (t: ToolSpec): boolean => !!t.confirm || !t.annotations.readOnlyHint;

/** Whether this call would change something (a confirm tool, not in dry-run). */
const acts = (c: GuardCall) => !!c.tool.confirm && !c.tool.dryRun?.(c.args as never);

/** The caller's profile against the risk of this call's action (a tool listed for its least risky action). */
function actionRefusal(c: GuardCall): string | undefined {
  const risk = c.access && c.tool.riskFor?.(c.args as never);
  if (!c.access || !risk || profileAllows(c.access.profile, risk)) return undefined;
  return `${c.tool.name} with these arguments needs profile ${profileFor(risk)}, and caller ` +
    `"${c.access.caller.id}" has profile ${c.access.profile}: ${PROFILE_ABOUT[c.access.profile]}. Nothing was sent.`;
}

function validateArgs(c: GuardCall): string | undefined {
  const insecure = c.ctx.config.enableInsecure;
  const parsed = v.safeParse(toolSchemas(c.tool, insecure).input, c.raw);
  if (!parsed.success) return describeIssues(c.tool, parsed.issues, insecure);
  c.args = parsed.output as Record<string, unknown>;
  try {
    c.tool.check?.(c.args as never, c.ctx.config);
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
    consentMessage(c.tool.name, action, nodes, c.args.context as string | undefined, c.outage),
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
  const versions = await nodeVersions(session, c.args.nodes as string[], c.ctx.signal, c.ctx.config.fanOutConcurrency);
  return upgradePathRefusal(versions, image);
}

async function etcdQuorum(c: GuardCall): Promise<string | undefined> {
  const impact = acts(c) ? c.tool.etcdImpact?.(c.args as never) : undefined;
  if (!impact) return undefined;
  const session = await c.ctx.session(c.args.context as string | undefined);
  const asked = c.args.nodes as string[];
  const targets = c.tool.downNodes ? await c.tool.downNodes(c.args as never, c.ctx) : asked;
  if (targets.length === 0) return undefined; // nothing goes down (e.g. a config applied without a reboot)
  const candidates = [...new Set([...asked, ...targetNodes(session.ctx)])];
  const view = await etcdView(session, candidates, c.ctx.signal, targets);
  const verdict = quorumVerdict(view, targets, impact, `${c.tool.name} on`, session.ctx.name);
  if (verdict.kind === "refused") return verdict.refusal;
  if (verdict.kind === "outage") c.outage = verdict.outage;
  return undefined;
}

/** A tool whose RPCs the chosen context's certificate may not call is refused before any RPC. */
function checkRoles(tool: ToolSpec, args: { context?: string }, ctx: ToolContext): string | undefined {
  // What this call needs, for tools whose actions differ (rpcsFor); else what the tool declares.
  const rpcs = tool.rpcsFor?.(args as never) ?? tool.rpcs;
  if (rpcs?.length === 0) return undefined; // makes no API call
  try {
    assertMayUse({ name: tool.name, rpcs }, ctx.resolveContext(args.context));
    return undefined;
  } catch (err) {
    if (err instanceof ToolError && err.code === "PERMISSION_DENIED") return err.message;
    return undefined; // talosconfig problems surface from the tool's own session call
  }
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
function describeIssues(tool: ToolSpec, issues: readonly v.BaseIssue<unknown>[], insecure: boolean): string {
  const allowed = Object.keys((toolSchemas(tool, insecure).input as unknown as { entries: object }).entries);
  const parts = issues.slice(0, 5).map((i) => {
    const path = i.path?.map((p) => String(p.key)).join(".") ?? "";
    if (i.kind === "schema" && i.type === "strict_object" && isInsecureArg(tool, path)) {
      return `"${path}" is for nodes in maintenance mode, which this server does not talk to: the operator must ` +
        `set TALOS_MCP_ENABLE_INSECURE=true and list the node in TALOS_MCP_INSECURE_ALLOWED_NODES`;
    }
    if (i.kind === "schema" && i.type === "strict_object" && path) {
      return `unknown argument "${path}" (allowed: ${allowed.join(", ") || "none"})`;
    }
    const got = i.received && i.received.length <= 60 ? `, got ${i.received}` : "";
    return `${path || "arguments"}: ${i.message.replace(/^Invalid \w+: /, "")}${got}`;
  });
  return `Invalid arguments for ${tool.name}: ${parts.join("; ")}.`;
}
