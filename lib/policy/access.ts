/**
 * @module What one caller may do under a policy: the profile (the narrowest of the server's, the file's
 * and the caller's grant), the tool filters, and the rules that restrict each tool's calls. Pure decisions;
 * the guard that asks the nodes for their roles and configs is lib/guards/policy.ts. Every refusal names
 * what refused it: the profile and where it comes from, or the rule, the grant and the file's line.
 */
import { nodePolicy } from "./nodes.ts";
import type { Grant, NodeEntry, Policy, Rule, ToolFilter } from "./file.ts";
import { narrowest, type Profile, PROFILE_ABOUT, profileAllows, profileFor, type Risk } from "./profiles.ts";

/** Who is calling. `id` is what audit and log lines show: the token's subject, or stdio, static-token, anonymous. */
export interface Caller {
  id: string;
  kind: "stdio" | "static-token" | "oauth" | "anonymous";
  groups: readonly string[];
  scopes: readonly string[];
}

export const STDIO_CALLER: Caller = { id: "stdio", kind: "stdio", groups: [], scopes: [] };

export interface Access {
  caller: Caller;
  profile: Profile;
  /** Why the profile is what it is, for refusals (e.g. `grant "readers" (policy.yaml line 30)`). */
  profileFrom: string;
  /** The grant that applies, if any. */
  grant?: Grant;
  /** Set when the policy has grants and none is for this OAuth caller: nothing is allowed. */
  noGrant?: string;
  filters: ReadonlyArray<{ filter: ToolFilter; where: string }>;
  rules: readonly Rule[];
  source?: string;
}

const fileName = (source: string) => source.split("/").pop() ?? source;
const where = (source: string, line: number) => `${fileName(source)} line ${line}`;

/** The first grant that names the caller by subject, group or scope; grants are tried in file order. */
function grantFor(policy: Policy, caller: Caller): Grant | undefined {
  return policy.grants.find((g) =>
    g.subjects.includes(caller.id) || g.groups.some((x) => caller.groups.includes(x)) ||
    g.scopes.some((x) => caller.scopes.includes(x))
  );
}

/** The caller's access: without a policy, the server's profile alone. */
export function accessFor(policy: Policy | undefined, serverProfile: Profile, caller: Caller): Access {
  const env = "TALOS_MCP_PROFILE / TALOS_MCP_READ_ONLY";
  if (!policy) return { caller, profile: serverProfile, profileFrom: env, filters: [], rules: [] };
  const grant = grantFor(policy, caller);
  const profile = narrowest(serverProfile, policy.profile, grant?.profile);
  const profileFrom = grant?.profile === profile
    ? `grant "${grant.name}" (${where(policy.source, grant.line)})`
    : policy.profile === profile
    ? `the policy's profile (${fileName(policy.source)})`
    : env;
  const filters = [{ filter: policy.tools, where: `the policy's tools (${fileName(policy.source)})` }];
  if (grant) {
    filters.push({ filter: grant.tools, where: `grant "${grant.name}" (${where(policy.source, grant.line)})` });
  }
  const noGrant = !grant && caller.kind === "oauth" && policy.grants.length
    ? `no grant of the policy (${fileName(policy.source)}) is for caller "${caller.id}" (groups: ${
      caller.groups.join(", ") || "none"
    }; scopes: ${caller.scopes.join(", ") || "none"}), so nothing is allowed`
    : undefined;
  return {
    caller,
    profile,
    profileFrom,
    ...(grant ? { grant } : {}),
    ...(noGrant ? { noGrant } : {}),
    filters,
    rules: [...policy.rules, ...(grant?.rules ?? [])],
    source: policy.source,
  };
}

/** Why `tool` is not offered to this caller, naming what refuses it; undefined when it is. */
export function toolRefusal(access: Access, tool: string, risk: Risk | undefined): string | undefined {
  if (access.noGrant) return access.noGrant;
  if (!profileAllows(access.profile, risk)) {
    return `${tool} needs profile ${
      profileFor(risk)
    }, and caller "${access.caller.id}" has profile ${access.profile} ` +
      `(from ${access.profileFrom}): ${PROFILE_ABOUT[access.profile]}`;
  }
  for (const { filter, where: w } of access.filters) {
    const denied = filter.deny.find((p) => p.tools.has(tool));
    if (denied) return `${tool} is denied by "${denied.text}" in ${w}, line ${denied.line} (${denied.path})`;
    if (filter.allow && !filter.allow.some((p) => p.tools.has(tool))) {
      return `${tool} is not in the allow list of ${w}, line ${filter.origin?.line ?? 1}`;
    }
  }
  return undefined;
}

/** The rules that restrict calls of `tool`. */
export const rulesFor = (access: Access, tool: string): Rule[] =>
  access.rules.filter((r) => r.tools.some((p) => p.tools.has(tool)));

/** How a refusal names a rule: `policy rule "workers-only" (policy.yaml line 12)`. */
export const ruleLabel = (rule: Rule, source = "policy") => `policy rule "${rule.name}" (${where(source, rule.line)})`;

/** Why the rule refuses the context, or undefined. */
export function contextRefusal(rule: Rule, tool: string, context: string, source?: string): string | undefined {
  if (!rule.contexts || rule.contexts.includes(context)) return undefined;
  return `Refused by ${ruleLabel(rule, source)}: ${tool} may use only the contexts ${rule.contexts.join(", ")}, ` +
    `not "${context}". Nothing was sent.`;
}

const describeEntry = (e: NodeEntry) => ("role" in e ? `role ${e.role}` : e.address);

/** Whether the rule needs to know node roles (a Talos read) to decide. */
export const needsRoles = (rule: Rule) => !!rule.nodes?.some((e) => "role" in e);

/**
 * Why the rule refuses `node`, or undefined. `role` is the node's machine type when known; a rule with
 * role entries refuses a node whose role could not be learned (fail closed).
 */
export function nodeRefusal(
  rule: Rule,
  tool: string,
  node: string,
  role: string | undefined,
  source?: string,
): string | undefined {
  if (!rule.nodes) return undefined;
  const ok = rule.nodes.some((e) => ("role" in e ? e.role === role : nodePolicy([e.address]).allows(node)));
  if (ok) return undefined;
  const is = role ? `a ${role}` : "of unknown role";
  return `Refused by ${ruleLabel(rule, source)}: ${tool} may target only ${
    rule.nodes.map(describeEntry).join(", ")
  }; node ${node} (${is}) is not one of them. Nothing was sent.`;
}
