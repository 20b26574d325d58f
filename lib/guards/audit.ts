/**
 * @module The audit line every mutating call leaves, whatever its outcome:
 * `AUDIT timestamp=<RFC3339> caller=<who> tool=<name> nodes=<list> outcome=<ok|denied|error> args=<json>`,
 * with patch content always redacted and secrets masked.
 */
import { maskValue } from "../secrets.ts";

export type Outcome = "ok" | "denied" | "error";

/** Arguments whose content never reaches the audit log, only their size. */
const CONTENT_ARGS = new Set(["patch", "value"]); // talos_patch_config's patch, talos_meta's value

/** The arguments as logged: content arguments replaced by their size, secrets masked. */
export function redactArgs(args: Record<string, unknown>, showSecrets: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    out[k] = CONTENT_ARGS.has(k)
      ? `<redacted: ${Buffer.byteLength(typeof v === "string" ? v : JSON.stringify(v ?? ""))} bytes>`
      : v;
  }
  return showSecrets ? out : maskValue(out);
}

export interface AuditEntry {
  /** Who called: the token's subject, or stdio, static-token, anonymous. */
  caller: string;
  tool: string;
  nodes: readonly unknown[];
  outcome: Outcome;
  args: Record<string, unknown>;
  showSecrets: boolean;
  at?: Date;
}

/**
 * A node as logged. Refused calls are audited with their raw, unvalidated arguments, so a "node" may hold
 * a newline and a forged second AUDIT line: whitespace, controls and commas become "?", and length is capped.
 */
const auditNode = (n: unknown) => {
  const s = String(n).replace(/[\p{Cc}\s,]/gu, "?");
  return s.length > 253 ? `${s.slice(0, 253)}...` : s;
};

/** One line, no newline inside (the JSON is compact; nodes are sanitised). */
export function auditLine(e: AuditEntry): string {
  const nodes = e.nodes.map(auditNode).filter(Boolean).join(",") || "-";
  return `AUDIT timestamp=${(e.at ?? new Date()).toISOString()} caller=${auditNode(e.caller) || "-"} ` +
    `tool=${e.tool} nodes=${nodes} ` +
    `outcome=${e.outcome} args=${JSON.stringify(redactArgs(e.args, e.showSecrets))}`;
}

/** ok when every node succeeded; error when the call failed or any node did. */
export function outcomeOf(value: Record<string, unknown>): Outcome {
  const nodes = value.nodes;
  if (Array.isArray(nodes) && nodes.some((n) => n && typeof n === "object" && "error" in n && n.error)) {
    return "error";
  }
  return "ok";
}
