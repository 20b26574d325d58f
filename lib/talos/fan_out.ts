/**
 * @module Client-side fan-out: one `node`-targeted call per node, in parallel
 * under a concurrency bound. Every node gets an entry, with its value or its
 * error, so one unreachable or hung node never hides the others.
 */
import { messageOf, ToolError } from "../errors.ts";
import { log } from "../log.ts";

export interface NodeOutcome<T> {
  /** The node as it was asked for. */
  node: string;
  value?: T;
  error?: string;
  /** Short error class (UNAVAILABLE, PERMISSION_DENIED, ...). */
  code?: string;
}

/** Runs `fn` for every node, at most `limit` at a time, keeping input order. */
export async function fanOut<T>(
  nodes: readonly string[],
  limit: number,
  fn: (node: string) => Promise<T>,
): Promise<NodeOutcome<T>[]> {
  const out: NodeOutcome<T>[] = nodes.map((node) => ({ node }));
  let next = 0;
  const worker = async () => {
    while (next < nodes.length) {
      const i = next++;
      try {
        out[i].value = await fn(nodes[i]);
      } catch (err) {
        if (err instanceof ToolError) {
          out[i].error = err.message;
          out[i].code = err.code;
        } else {
          log("error", `internal error on node ${nodes[i]}: ${(err as Error)?.stack ?? messageOf(err)}`);
          out[i].error = `internal error: ${messageOf(err)}`;
          out[i].code = "INTERNAL";
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, nodes.length) }, worker));
  return out;
}
