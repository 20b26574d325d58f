/**
 * @module Safety profiles and the policy file's pure parts: every tool is classified, each profile offers
 * what it says, a policy file's mistakes are reported with line and path, and config changes are judged on
 * the paths they touch.
 */
import { describe, expect, test } from "bun:test";
import { catalog } from "../../lib/guards/policy_source.ts";
import { accessFor, nodeRefusal, STDIO_CALLER, toolRefusal } from "../../lib/policy/access.ts";
import { changedPaths, deniedTouch } from "../../lib/policy/config_paths.ts";
import { parsePolicy, PolicyError } from "../../lib/policy/file.ts";
import { narrowest, profileAllows } from "../../lib/policy/profiles.ts";
import { loadConfig } from "../../lib/config.ts";
import { riskOf } from "../../lib/tools/define.ts";
import { ALL_TOOLS } from "../../lib/tools/mod.ts";

const offered = (profile: "readonly" | "operator" | "admin") =>
  ALL_TOOLS.filter((t) => profileAllows(profile, riskOf(t))).map((t) => t.name);

describe("profiles", () => {
  test("every tool is classified: read-only annotations, or a declared risk", () => {
    const unclassified = ALL_TOOLS.filter((t) => riskOf(t) === undefined).map((t) => t.name);
    expect(unclassified).toEqual([]);
    // A tool that changes something cannot pass as a reader's tool by forgetting its risk.
    for (const t of ALL_TOOLS) {
      if (!t.annotations.readOnlyHint) expect([t.name, riskOf(t)]).not.toEqual([t.name, "read"]);
    }
  });

  test("an unclassified changing tool is offered to admin only", () => {
    expect(profileAllows("operator", undefined)).toBe(false);
    expect(profileAllows("admin", undefined)).toBe(true);
  });

  test("readonly: no tool that changes a cluster or writes a file", () => {
    const ro = offered("readonly");
    expect(ro).toEqual(ALL_TOOLS.filter((t) => t.annotations.readOnlyHint && !t.confirm).map((t) => t.name));
    expect(ro).not.toContain("talos_kubeconfig");
  });

  test("operator adds reboots, shutdown, service actions, pulls and backups; nothing that changes config", () => {
    const added = offered("operator").filter((n) => !offered("readonly").includes(n)).sort();
    expect(added).toEqual([
      "talos_etcd_maintenance", // listed for defrag, alarms, leadership; membership changes need admin (riskFor)
      "talos_etcd_snapshot",
      "talos_image_pull",
      "talos_reboot",
      "talos_service_action",
      "talos_shutdown",
      "talos_support_bundle",
    ]);
    const adminOnly = offered("admin").filter((n) => !offered("operator").includes(n)).sort();
    expect(adminOnly).toEqual([
      "talos_apply_config",
      "talos_bootstrap",
      "talos_kubeconfig",
      "talos_meta",
      "talos_patch_config",
      "talos_reset",
      "talos_rollback",
      "talos_talosconfig_issue",
      "talos_upgrade",
      "talos_upgrade_cluster",
      "talos_upgrade_kubernetes",
    ]);
  });

  test("precedence: the narrowest of TALOS_MCP_PROFILE and TALOS_MCP_READ_ONLY", () => {
    expect(loadConfig({}).profile).toBe("admin");
    expect(loadConfig({ TALOS_MCP_PROFILE: "operator" }).profile).toBe("operator");
    expect(loadConfig({ TALOS_MCP_PROFILE: "admin", TALOS_MCP_READ_ONLY: "true" })).toMatchObject({
      profile: "readonly",
      readOnly: true,
    });
    expect(loadConfig({ TALOS_MCP_PROFILE: "readonly", TALOS_MCP_READ_ONLY: "false" }).readOnly).toBe(true);
    expect(() => loadConfig({ TALOS_MCP_PROFILE: "root" })).toThrow("TALOS_MCP_PROFILE=root is not a profile");
    expect(narrowest("admin", undefined, "operator")).toBe("operator");
  });
});

const parse = (text: string) => parsePolicy(text, "/etc/talos-mcp/policy.yaml", catalog());
const problems = (text: string): string[] => {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof PolicyError) return [...err.problems];
    throw err;
  }
  throw new Error("the policy was accepted");
};

describe("policy file validation", () => {
  test("every mistake at once, each with its line and path", () => {
    const got = problems(`profile: operater
tools:
  deny: [talos_rebot, lifecycle]
rules:
  - name: workers
    tools: [talos_reboot]
    nodes: [10.5.0.0/33, {role: master}, web-1]
  - tools: ["talos_x*"]
    contexts: [staging]
grants:
  - name: readers
    profile: readonly
    colour: blue
`);
    expect(got).toEqual([
      'policy.yaml:1: profile: "operater" is not a profile; use one of readonly, operator, admin',
      'policy.yaml:3: tools.deny[0]: "talos_rebot" matches no tool; use a tool name (talos_reboot), a toolset ' +
      "(core, diagnostics, files, etcd, lifecycle, credentials) or a glob (talos_etcd*)",
      'policy.yaml:7: rules[0].nodes[0]: "10.5.0.0/33" is not a CIDR (e.g. 10.5.0.0/24); or use {role: worker|controlplane}',
      'policy.yaml:7: rules[0].nodes[1].role: "master" is not a role; use worker or controlplane',
      "policy.yaml:8: rules[1]: a rule needs a name (refusals quote it)",
      'policy.yaml:8: rules[1].tools[0]: "talos_x*" matches no tool; use a tool name (talos_reboot), a toolset ' +
      "(core, diagnostics, files, etcd, lifecycle, credentials) or a glob (talos_etcd*)",
      'policy.yaml:13: grants[0].colour: unknown key "colour"; expected one of name, subjects, groups, scopes, ' +
      "profile, tools, rules",
      "policy.yaml:11: grants[0]: a grant needs subjects, groups or scopes: whom it is for",
    ]);
  });

  test("YAML syntax errors name the line; an empty file is refused", () => {
    expect(problems("rules:\n  - name: x\n   tools: [a]\n")[0]).toMatch(/^policy\.yaml:3: /);
    expect(problems("")).toEqual([
      "policy.yaml:1: (top): the file is empty; write at least a profile (see docs/policy.md)",
    ]);
    expect(problems("a: 1\na: 2\n")[0]).toMatch(/^policy\.yaml:2: .*[Uu]nique/);
  });

  test("a valid policy: patterns resolve to tools, toolsets and globs", () => {
    const p = parse(`tools:
  allow: [core, "talos_etcd*", talos_reboot]
  deny: [talos_etcd_snapshot]
`);
    expect([...p.tools.allow![1].tools].sort()).toEqual([
      "talos_etcd",
      "talos_etcd_maintenance",
      "talos_etcd_snapshot",
    ]);
    const a = accessFor(p, "admin", STDIO_CALLER);
    expect(toolRefusal(a, "talos_version", "read")).toBeUndefined();
    expect(toolRefusal(a, "talos_reboot", "operate")).toBeUndefined();
    expect(toolRefusal(a, "talos_etcd_snapshot", "operate")).toBe(
      'talos_etcd_snapshot is denied by "talos_etcd*"'.replace("talos_etcd*", "talos_etcd_snapshot") +
        " in the policy's tools (policy.yaml), line 3 (tools.deny[0])",
    );
    expect(toolRefusal(a, "talos_containers", "read")).toBe(
      "talos_containers is not in the allow list of the policy's tools (policy.yaml), line 2",
    );
  });

  test("grants: first match by subject, group or scope; an OAuth caller with no grant gets nothing", () => {
    const p = parse(`grants:
  - name: readers
    groups: [sre]
    profile: readonly
  - name: oncall
    scopes: [talos:operate]
    profile: operator
`);
    const caller = (groups: string[], scopes: string[]) => ({ id: "u", kind: "oauth" as const, groups, scopes });
    expect(accessFor(p, "admin", caller(["sre"], ["talos:operate"])).profile).toBe("readonly");
    expect(accessFor(p, "admin", caller([], ["talos:operate"])).profile).toBe("operator");
    expect(accessFor(p, "readonly", caller([], ["talos:operate"])).profile).toBe("readonly"); // the server is a ceiling
    const none = accessFor(p, "admin", caller(["dev"], []));
    expect(toolRefusal(none, "talos_version", "read")).toContain(
      'no grant of the policy (policy.yaml) is for caller "u"',
    );
    expect(toolRefusal(accessFor(p, "admin", STDIO_CALLER), "talos_reset", "change")).toBeUndefined();
    expect(toolRefusal(accessFor(p, "admin", caller(["sre"], [])), "talos_reboot", "operate")).toBe(
      'talos_reboot needs profile operator, and caller "u" has profile readonly (from grant "readers" ' +
        "(policy.yaml line 2)): tools that only read (nothing that changes a cluster or writes a file)",
    );
  });

  test("node rules: addresses and roles; an unknown role is refused", () => {
    const p = parse(`rules:
  - name: workers-only
    tools: [talos_reboot]
    nodes: [{role: worker}, 10.9.0.0/24]
`);
    const rule = p.rules[0];
    expect(nodeRefusal(rule, "talos_reboot", "10.5.0.4", "worker")).toBeUndefined();
    expect(nodeRefusal(rule, "talos_reboot", "10.9.0.7", "controlplane")).toBeUndefined();
    expect(nodeRefusal(rule, "talos_reboot", "10.5.0.2", "controlplane", p.source)).toBe(
      'Refused by policy rule "workers-only" (policy.yaml line 2): talos_reboot may target only role worker, ' +
        "10.9.0.0/24; node 10.5.0.2 (a controlplane) is not one of them. Nothing was sent.",
    );
    expect(nodeRefusal(rule, "talos_reboot", "10.5.0.5", undefined)).toContain("(of unknown role)");
  });
});

describe("config paths touched", () => {
  const before = [{
    machine: { security: { a: 1 }, network: { hostname: "x" } },
    cluster: { secretboxEncryptionSecret: "s" },
  }];
  test.each([
    [[{ machine: { security: { a: 2 }, network: { hostname: "x" } }, cluster: before[0].cluster }], [
      "machine.security.a",
    ]],
    [[{ machine: { network: { hostname: "x" } }, cluster: before[0].cluster }], ["machine.security"]],
    [[{ ...before[0], cluster: {} }], ["cluster.secretboxEncryptionSecret"]],
    [[before[0], { kind: "KubespanEndpointsConfig", extraAnnouncedEndpoints: ["1.2.3.4"] }], [
      "KubespanEndpointsConfig",
    ]],
  ])("%j", (after, want) => expect(changedPaths(before, after)).toEqual(want));

  test("a denied path is touched below it, at it, or when a whole subtree above it is replaced", () => {
    const denied = ["machine.security", "cluster.secretboxEncryptionSecret"];
    expect(deniedTouch(["machine.security.a"], denied)).toEqual({
      path: "machine.security.a",
      denied: "machine.security",
    });
    expect(deniedTouch(["cluster"], denied)).toEqual({ path: "cluster", denied: "cluster.secretboxEncryptionSecret" });
    expect(deniedTouch([""], denied)?.denied).toBe("machine.security");
    expect(deniedTouch(["machine.securityx", "machine.network.hostname"], denied)).toBeUndefined();
  });
});

test("the team policy in docs/policy.md is valid, and its quoted line numbers are right", async () => {
  const doc = await Bun.file(new URL("../../docs/policy.md", import.meta.url)).text();
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1];
  const p = parse(yaml);
  expect(p.grants.map((g) => [g.name, g.line])).toEqual([["readers", 15], ["on-call", 20], ["admins", 24]]);
  expect(p.rules[0]).toMatchObject({ name: "power-only-workers", line: 5 });
  expect(doc).toContain('(from grant "readers" (policy.yaml line 15))');
  expect(doc).toContain('rule "power-only-workers" (policy.yaml line 5)');
});
