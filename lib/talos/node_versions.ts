/** @module The Talos version tag of each node, asked with Version; any node that does not answer fails the whole lookup. */
import { ToolError } from "../errors.ts";
import { fanOut } from "./fan_out.ts";
import type { TalosSession } from "./session.ts";

/** One node's Talos version tag ("" when the node sends none), asked with Version. */
export async function versionTag(
  session: TalosSession,
  node: string,
  signal?: AbortSignal,
  timeoutMs?: number,
): Promise<string> {
  const res = await session.api.machine.Version({}, {
    node,
    signal,
    timeoutMs,
  });
  return res.messages?.[0]?.version?.tag ?? "";
}

/** node → version tag. Throws a ToolError naming every node that could not be asked. */
export async function nodeVersions(
  session: TalosSession,
  nodes: readonly string[],
  signal: AbortSignal,
  concurrency: number,
): Promise<Map<string, string>> {
  const outcomes = await fanOut(nodes, concurrency, (node) => versionTag(session, node, signal));
  const failed = outcomes.filter((o) => o.error !== undefined);
  if (failed.length) {
    throw new ToolError(
      `Cannot read the Talos version of ${failed.map((f) => `${f.node} (${f.error})`).join("; ")}. ` +
        `It is needed before changing these nodes; retry when they answer. Nothing was changed.`,
      failed[0].code,
    );
  }
  return new Map(outcomes.map((o) => [o.node, o.value!]));
}
