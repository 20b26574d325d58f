/**
 * @module Toolsets: every tool is in exactly one (a new tool fails here until it joins one), the default set
 * stays within what an agent can afford to read, and the selection rules (lib/tools/toolsets.ts) and flags hold
 * through the binary.
 */
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../lib/config.ts";
import { ALL_TOOLS } from "../lib/tools/mod.ts";
import { DEFAULT_TOOLSETS, selectTools, TOOLSET_OF, TOOLSETS } from "../lib/tools/toolsets.ts";
import { BIN, spawnHarness, text } from "./harness.ts";
import { listTools, modelReadBytes } from "./tools_size.ts";

/** What the model reads of the default tools/list: names, descriptions and input schemas. */
const DEFAULT_BUDGET = 12 * 1024;

const names = (env: Record<string, string>) => selectTools(loadConfig(env)).map((t) => t.name);
const inSet = (set: string) => ALL_TOOLS.filter((t) => TOOLSET_OF[t.name] === set).map((t) => t.name);

describe("toolsets", () => {
  test("every tool is in exactly one toolset, and every entry names a tool", () => {
    const orphans = ALL_TOOLS.filter((t) => !TOOLSET_OF[t.name]).map((t) => t.name);
    expect(orphans, "add each to TOOLSET_OF in lib/tools/toolsets.ts").toEqual([]);
    const tools = new Set(ALL_TOOLS.map((t) => t.name));
    expect(Object.keys(TOOLSET_OF).filter((n) => !tools.has(n))).toEqual([]);
    for (const set of TOOLSETS) expect(inSet(set).length).toBeGreaterThan(0);
  });

  test("tools that change a cluster are in lifecycle, never in the default set", () => {
    for (const t of ALL_TOOLS.filter((t) => t.confirm)) expect(TOOLSET_OF[t.name]).toBe("lifecycle");
    expect(DEFAULT_TOOLSETS).not.toContain("lifecycle");
    expect(DEFAULT_TOOLSETS).not.toContain("credentials");
  });

  test(`the default tools/list costs the model at most ${DEFAULT_BUDGET} bytes`, async () => {
    const tools = await listTools({}, selectTools(loadConfig({})));
    expect(tools.map((t) => t.name).sort()).toEqual(DEFAULT_TOOLSETS.flatMap(inSet).sort());
    expect(modelReadBytes(tools)).toBeLessThanOrEqual(DEFAULT_BUDGET);
  });

  test("selection: default, all, sets, exact tools, disabled tools", () => {
    expect(names({})).toEqual(DEFAULT_TOOLSETS.flatMap(inSet).sort((a, b) => order(a) - order(b)));
    expect(names({ TALOS_MCP_TOOLSETS: "all" })).toEqual(ALL_TOOLS.map((t) => t.name));
    expect(names({ TALOS_MCP_TOOLSETS: "files" })).toEqual(["talos_list_files", "talos_read_file"]);
    // Only exact tools: just those. With toolsets: added to them.
    expect(names({ TALOS_MCP_TOOLS: "talos_version,talos_etcd" })).toEqual(["talos_version", "talos_etcd"]);
    expect(names({ TALOS_MCP_TOOLSETS: "files", TALOS_MCP_TOOLS: "talos_etcd" })).toEqual([
      "talos_etcd",
      "talos_list_files",
      "talos_read_file",
    ]);
    const noLogs = names({ TALOS_MCP_TOOLSETS: "default", TALOS_MCP_DISABLED_TOOLS: "talos_logs, talos_dmesg" });
    expect(noLogs).not.toContain("talos_logs");
    expect(noLogs).not.toContain("talos_dmesg");
    expect(noLogs).toContain("talos_version");
  });

  test("unknown names stop the server with the valid names listed", () => {
    expect(() => names({ TALOS_MCP_TOOLSETS: "core,nope" })).toThrow(ConfigError);
    expect(() => names({ TALOS_MCP_TOOLSETS: "nope" })).toThrow(`valid: ${TOOLSETS.join(", ")}, default, all`);
    expect(() => names({ TALOS_MCP_TOOLS: "talos_versoin" })).toThrow(
      /unknown tool "talos_versoin"; valid: .*talos_version/,
    );
    expect(() => names({ TALOS_MCP_DISABLED_TOOLS: "x" })).toThrow("TALOS_MCP_DISABLED_TOOLS");
  });
});

const order = (name: string) => ALL_TOOLS.findIndex((t) => t.name === name);

describe("toolsets through the binary", () => {
  test("a bad toolset flag stops the server, naming the valid ones", () => {
    const r = Bun.spawnSync([BIN, "--toolsets", "core,bogus"], { env: {}, stdin: "ignore" });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toContain('unknown toolset "bogus"; valid: core, diagnostics');
    const missing = Bun.spawnSync([BIN, "--tools"], { env: {}, stdin: "ignore" });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.toString()).toContain("--tools needs a value");
  });

  test("flags win over the environment; read-only still hides mutating tools; a tool not enabled says how", async () => {
    const h = await spawnHarness({
      args: ["--toolsets=files,lifecycle", "--disabled-tools", "talos_list_files"],
      env: { TALOS_MCP_TOOLSETS: "core", TALOS_MCP_READ_ONLY: "true", TALOS_MCP_WARMUP: "false" },
    });
    try {
      const { tools } = await h.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["talos_read_file", "talos_upgrade_plan", "talos_validate"]);
      const r = await h.call("talos_version", {});
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("core toolset");
      // The advice keeps the toolsets the user chose and adds the missing one.
      expect(text(r)).toContain("TALOS_MCP_TOOLSETS=files,lifecycle,core");
      const disabled = await h.call("talos_list_files", { path: "/etc" });
      expect(disabled.isError).toBe(true);
      expect(text(disabled)).toContain("talos_list_files is disabled on this server (TALOS_MCP_DISABLED_TOOLS");
    } finally {
      await h.close();
    }
  });
});
