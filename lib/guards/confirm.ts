/**
 * @module The confirm contract, checked on the raw arguments before anything
 * else: a tool with `confirm: true` acts only when `confirm` is the boolean
 * true (the string "true" is not consent) and `nodes` names its targets.
 */
import type { ToolSpec } from "../tools/define.ts";

/** Why the call is refused, or undefined when it may go on. */
export function confirmRefusal(tool: ToolSpec, raw: Record<string, unknown>): string | undefined {
  if (!tool.confirm) return undefined;
  if (tool.dryRunAllNodes && tool.dryRun?.(raw as never)) return undefined; // a plan: nothing changes
  const nodes = raw.nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) {
    return `${tool.name} changes nodes, so it needs explicit nodes (e.g. nodes: ["10.5.0.2"]); it never ` +
      `defaults to the context's nodes. Nothing was sent.`;
  }
  if (tool.dryRun?.(raw as never)) return undefined;
  if (raw.confirm !== true) {
    const got = raw.confirm === undefined ? "it was missing" : `got ${JSON.stringify(raw.confirm)}`;
    return `${tool.name} changes nodes ${nodes.join(", ")} and needs confirm: true (the boolean; ${got}). ` +
      `Tell the user what it will do and on which nodes, and call again with confirm: true only if they agree. ` +
      `Nothing was sent.`;
  }
  return undefined;
}
