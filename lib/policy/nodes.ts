/**
 * @module TALOS_MCP_ALLOWED_NODES: which nodes a call may target. Entries are
 * IPs, CIDRs or hostnames; a node matches when it is named by an allowed IP or
 * hostname, or is an IP inside an allowed CIDR. Checked in TalosClient before
 * every node-targeted RPC, so no tool can reach past it.
 */
import { BlockList, isIP } from "node:net";
import { ToolError } from "../errors.ts";

export interface NodePolicy {
  /** The entries as configured, for messages. */
  entries: readonly string[];
  allows(node: string): boolean;
}

/** DNS name: labels of letters, digits and hyphens. Shared with the tools' `nodes` parameter. */
export const HOSTNAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/;

/** Parses the entries; throws an Error naming the bad one. An empty list allows every node. */
export function nodePolicy(entries: readonly string[]): NodePolicy {
  if (!entries.length) return { entries, allows: () => true };
  const cidrs = new BlockList();
  const names = new Set<string>();
  for (const raw of entries) {
    const e = raw.trim();
    const slash = e.indexOf("/");
    if (slash > 0) {
      const [addr, bits] = [e.slice(0, slash), Number(e.slice(slash + 1))];
      const family = isIP(addr);
      const max = family === 4 ? 32 : 128;
      if (!family || !Number.isInteger(bits) || bits < 0 || bits > max) {
        throw new Error(`"${e}" is not a CIDR (e.g. 10.5.0.0/24)`);
      }
      cidrs.addSubnet(addr, bits, family === 4 ? "ipv4" : "ipv6");
    } else if (isIP(e)) {
      cidrs.addAddress(e, isIP(e) === 4 ? "ipv4" : "ipv6");
    } else if (HOSTNAME_RE.test(e)) {
      names.add(e.toLowerCase().replace(/\.$/, ""));
    } else {
      throw new Error(`"${e}" is neither an IP, a CIDR nor a hostname`);
    }
  }
  return {
    entries,
    allows: (node) => {
      const family = isIP(node);
      if (family) return cidrs.check(node, family === 4 ? "ipv4" : "ipv6");
      return names.has(node.toLowerCase().replace(/\.$/, ""));
    },
  };
}

/** Throws the refusal an agent sees for a node outside the allowlist. */
export function assertNodeAllowed(policy: NodePolicy, node: string): void {
  if (policy.allows(node)) return;
  throw new ToolError(
    `Node ${node} is not allowed: TALOS_MCP_ALLOWED_NODES permits only ${policy.entries.join(", ")}. ` +
      `Target an allowed node, or ask the operator to extend the list. No request was sent to ${node}.`,
    "DENIED",
  );
}
