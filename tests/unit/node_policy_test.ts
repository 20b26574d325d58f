/** @module TALOS_MCP_ALLOWED_NODES matching, table-driven, and its validation at start-up. */
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../lib/config.ts";
import { assertNodeAllowed, nodePolicy } from "../../lib/policy/nodes.ts";

describe("nodePolicy", () => {
  const p = nodePolicy(["10.5.0.0/30", "192.168.1.7", "fd00::/64", "cp-1.example.com"]);
  test.each([
    ["10.5.0.2", true],
    ["10.5.0.3", true],
    ["10.5.0.4", false],
    ["192.168.1.7", true],
    ["192.168.1.8", false],
    ["fd00::1", true],
    ["fd01::1", false],
    ["cp-1.example.com", true],
    ["CP-1.example.com.", true],
    ["cp-2.example.com", false],
    ["10.5.0.2.nip.io", false],
  ])("%s → %p", (node, allowed) => {
    expect(p.allows(node)).toBe(allowed);
  });

  test("an empty list allows everything", () => {
    expect(nodePolicy([]).allows("anything")).toBe(true);
  });

  test("the refusal names the node, the list and that nothing was sent", () => {
    expect(() => assertNodeAllowed(p, "10.9.9.9")).toThrow(
      "Node 10.9.9.9 is not allowed: TALOS_MCP_ALLOWED_NODES permits only 10.5.0.0/30, 192.168.1.7, fd00::/64, " +
        "cp-1.example.com. Target an allowed node, or ask the operator to extend the list. No request was sent to 10.9.9.9.",
    );
  });

  test.each(["10.5.0.0/33", "10.5.0/24", "not a host!", "::/129"])("bad entry %s stops the server", (bad) => {
    expect(() => loadConfig({ TALOS_MCP_ALLOWED_NODES: `10.5.0.2,${bad}` })).toThrow(ConfigError);
    expect(() => loadConfig({ TALOS_MCP_ALLOWED_NODES: bad })).toThrow("TALOS_MCP_ALLOWED_NODES");
  });
});
