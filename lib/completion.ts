/**
 * @module completion/complete for the talos:// resource template and the
 * prompts: contexts from the talosconfig, nodes of the chosen context, and
 * COSI types (with aliases) read from the chosen node.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CompleteRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { definitions } from "./talos/cosi.ts";
import { type Sessions, targetNodes } from "./talos/session.ts";

const MAX = 100;

function startsWith(values: Iterable<string>, prefix: string): string[] {
  const p = prefix.toLowerCase();
  return [...new Set(values)].filter((v) => v.toLowerCase().startsWith(p)).sort();
}

export function registerCompletion(server: Server, sessions: Sessions): void {
  server.setRequestHandler(CompleteRequestSchema, async (req) => {
    const { name, value } = req.params.argument;
    const known = req.params.context?.arguments ?? {};
    let values: string[] = [];
    try {
      if (name === "context") {
        values = startsWith(Object.keys(sessions.file().contexts), value);
      } else if (name === "node" || name === "nodes") {
        values = startsWith(targetNodes(sessions.context(known.context || undefined)), value);
      } else if (name === "type") {
        const session = await sessions.get(known.context || undefined);
        const node = known.node || targetNodes(session.ctx)[0];
        const defs = await definitions(session, node);
        values = startsWith(defs.flatMap((d) => [d.displayType.toLowerCase(), ...d.aliases, d.type]), value);
      }
    } catch {
      values = []; // completion is a convenience: a broken talosconfig or node just offers nothing
    }
    return { completion: { values: values.slice(0, MAX), total: values.length, hasMore: values.length > MAX } };
  });
}
