/**
 * @module The policy rules guard: the contexts and nodes a tool may target, and the machine config paths a
 * config change may not touch. Context and address rules are decided locally; role rules read each node's
 * machine type, and config-path rules read each node's current config and compare it with the config the
 * call would leave (the tool's `configAfter`), so no spelling of a patch gets past them. Reads only: a
 * refusal here sends nothing that changes a node.
 */
import { messageOf, ToolError } from "../errors.ts";
import { contextRefusal, needsRoles, nodeRefusal, ruleLabel, rulesFor } from "../policy/access.ts";
import { changedPaths, deniedTouch } from "../policy/config_paths.ts";
import { getResource } from "../talos/cosi.ts";
import { machineTypesOf } from "../talos/machine_types.ts";
import { targetNodes } from "../talos/session.ts";
import type { GuardCall } from "./pipeline.ts";

interface TargetArgs {
  context?: string;
  nodes?: string[];
  insecure?: boolean;
}

export async function policyRules(c: GuardCall): Promise<string | undefined> {
  if (!c.access) return undefined;
  const rules = rulesFor(c.access, c.tool.name);
  if (!rules.length) return undefined;
  const source = c.access.source;
  const args = c.args as TargetArgs;
  try {
    const resolved = c.ctx.resolveContext(args.context);
    const nodes = targetNodes(resolved, args.nodes);
    for (const rule of rules) {
      const refused = contextRefusal(rule, c.tool.name, resolved.name, source);
      if (refused) return refused;
    }
    let roles: ReadonlyMap<string, string> = new Map();
    if (rules.some(needsRoles)) {
      if (args.insecure) {
        // A node in maintenance mode has no role yet; a rule by role cannot admit it.
        roles = new Map();
      } else {
        const session = await c.ctx.session(args.context);
        roles = await machineTypesOf(session, nodes, c.ctx.signal, c.ctx.config.fanOutConcurrency);
      }
    }
    for (const rule of rules) {
      for (const node of nodes) {
        const refused = nodeRefusal(rule, c.tool.name, node, roles.get(node), source);
        if (refused) return refused;
      }
    }
    const pathRules = rules.filter((r) => r.denyConfigPaths?.length);
    if (pathRules.length && c.tool.configAfter) return await configRefusal(c, args, nodes, pathRules, source);
    return undefined;
  } catch (err) {
    if (err instanceof ToolError) return `The policy rules for ${c.tool.name} could not be checked: ${err.message}`;
    throw err;
  }
}

async function configRefusal(
  c: GuardCall,
  args: TargetArgs,
  nodes: readonly string[],
  rules: ReturnType<typeof rulesFor>,
  source: string | undefined,
): Promise<string | undefined> {
  const session = args.insecure ? undefined : await c.ctx.session(args.context);
  for (const node of nodes) {
    let before: unknown[] = [];
    if (session) {
      try {
        const r = await getResource(
          session,
          node,
          "config",
          "MachineConfigs.config.talos.dev",
          "v1alpha1",
          c.ctx.signal,
        );
        before = r.spec as unknown[];
      } catch (err) {
        // Fail closed: without the current config the change cannot be told apart from a denied one.
        return `Refused: the policy denies some config paths for ${c.tool.name}, and node ${node}'s current ` +
          `config could not be read to check the change (${messageOf(err)}). Nothing was sent.`;
      }
    }
    const after = await c.tool.configAfter!(c.args as never, before);
    const touched = changedPaths(before, after);
    for (const rule of rules) {
      const hit = deniedTouch(touched, rule.denyConfigPaths!);
      if (hit) {
        return `Refused by ${ruleLabel(rule, source)}: ${c.tool.name} would change ${hit.path || "the whole config"} ` +
          `on node ${node}, and the rule denies changes to ${hit.denied}. Nothing was sent.`;
      }
    }
  }
  return undefined;
}
