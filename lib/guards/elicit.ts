/**
 * @module Human consent through MCP elicitation. `confirm: true` is filled in
 * by a model; when the client can ask its user, the server asks too, and only
 * an explicit accept lets the call through.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";

export type Consent = "accept" | "decline" | "cancel" | "unsupported" | "failed";

/** The question shown to the human. */
export function consentMessage(
  tool: string,
  action: string,
  nodes: readonly string[],
  context?: string,
  outage?: string,
): string {
  return `${tool}: ${action}\nNodes: ${nodes.join(", ")}` + (context ? `\nContext: ${context}` : "") +
    (outage ? `\nOutage: ${outage}` : "") +
    `\nAccept to proceed; decline or cancel to stop without changing anything.`;
}

/** Asks the human when the client declared elicitation; "unsupported" otherwise. */
export async function askHuman(server: Server, message: string, signal?: AbortSignal): Promise<Consent> {
  const caps = server.getClientCapabilities()?.elicitation;
  // Form elicitation is what we need; a client offering only URL elicitation cannot show the question.
  if (!caps || (caps.url && !caps.form)) return "unsupported";
  try {
    const res = await server.elicitInput({ message, requestedSchema: { type: "object", properties: {} } }, {
      signal,
      timeout: 10 * 60_000, // a human is reading; still bounded
    });
    return res.action;
  } catch {
    return "failed"; // no answer is no consent
  }
}
