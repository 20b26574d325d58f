/**
 * @module Real hostnames of nodes named by IP, learned once per session:
 * per-node tool results and the warm-up show both.
 */
import { isIP } from "node:net";
import type { TalosSession } from "./session.ts";

/**
 * Nodes are usually named by IP; learn each one's hostname once (a cheap
 * Hostname call in parallel with the real work) so results can show both.
 */
export async function learnHostnames(
  session: TalosSession,
  nodes: string[],
  signal: AbortSignal,
  timeoutMs: number,
): Promise<void> {
  const unknown = nodes.filter((n) => isIP(n) && !session.hostnames.has(n));
  await Promise.all(unknown.map(async (node) => {
    try {
      const res = await session.api.machine.Hostname(
        {},
        { node, timeoutMs, signal },
      );
      const hostname = res.messages?.[0]?.hostname;
      if (hostname) session.hostnames.set(node, hostname);
    } catch {
      // Best effort: the tool's own call reports why the node failed.
    }
  }));
}
