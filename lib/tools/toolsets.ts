/**
 * @module Toolsets: named groups of tools, picked with TALOS_MCP_TOOLSETS / --toolsets, refined with
 * TALOS_MCP_TOOLS and TALOS_MCP_DISABLED_TOOLS (the github-mcp-server convention). Every tool in ALL_TOOLS is in
 * exactly one toolset: a new tool joins with one line in TOOLSET_OF, and tests/toolsets_test.ts fails while it
 * is in none. The default set is what an agent reads on every session, so it is kept to the read-only tools
 * troubleshooting starts with (≤ 12 KB of names, descriptions and input schemas; the test holds it to that).
 */
import { type Config, ConfigError } from "../config.ts";
import type { ToolSpec } from "./define.ts";
import { ALL_TOOLS } from "./mod.ts";

export const TOOLSETS = ["core", "diagnostics", "files", "etcd", "lifecycle", "credentials"] as const;
export type Toolset = typeof TOOLSETS[number];

/** `default`: what a server started without TALOS_MCP_TOOLSETS offers. */
export const DEFAULT_TOOLSETS: readonly Toolset[] = ["core", "diagnostics"];

/** Tool name → its one toolset. One line per tool. */
export const TOOLSET_OF: Readonly<Record<string, Toolset>> = {
  talos_contexts: "core",
  talos_node_summary: "core",
  talos_version: "core",
  talos_services: "core",
  talos_health: "core",
  talos_logs: "core",
  talos_dmesg: "core",
  talos_events: "core",
  talos_get: "core",
  talos_resource_definitions: "core",
  talos_containers: "diagnostics",
  talos_processes: "diagnostics",
  talos_stats: "diagnostics",
  talos_mounts: "diagnostics",
  talos_disks: "diagnostics",
  talos_network: "diagnostics",
  talos_netstat: "diagnostics",
  talos_images: "diagnostics",
  talos_list_files: "files",
  talos_read_file: "files",
  talos_etcd: "etcd",
  talos_upgrade_plan: "lifecycle",
  talos_validate: "lifecycle",
  talos_apply_config: "lifecycle",
  talos_bootstrap: "lifecycle",
  talos_reset: "lifecycle",
  talos_shutdown: "lifecycle",
  talos_meta: "lifecycle",
  talos_service_action: "lifecycle",
  talos_reboot: "lifecycle",
  talos_upgrade: "lifecycle",
  talos_upgrade_cluster: "lifecycle",
  talos_upgrade_kubernetes: "lifecycle",
  talos_rollback: "lifecycle",
  talos_patch_config: "lifecycle",
  talos_image_pull: "lifecycle",
  talos_kubeconfig: "credentials",
  talos_etcd_snapshot: "credentials",
  talos_talosconfig_issue: "credentials",
  talos_support_bundle: "credentials",
  talos_etcd_maintenance: "lifecycle",
};

/** The toolsets named by TALOS_MCP_TOOLSETS, keywords expanded; unknown names stop the server. */
function parseToolsets(names: readonly string[]): Set<Toolset> {
  const out = new Set<Toolset>();
  for (const raw of names) {
    const name = raw.toLowerCase();
    if (name === "all") TOOLSETS.forEach((t) => out.add(t));
    else if (name === "default") DEFAULT_TOOLSETS.forEach((t) => out.add(t));
    else if ((TOOLSETS as readonly string[]).includes(name)) out.add(name as Toolset);
    else {
      throw new ConfigError(
        `TALOS_MCP_TOOLSETS (--toolsets): unknown toolset "${raw}"; valid: ${TOOLSETS.join(", ")}, default, all`,
      );
    }
  }
  return out;
}

function checkToolNames(names: readonly string[], variable: string, all: readonly ToolSpec[]): void {
  const known = new Set(all.map((t) => t.name));
  const bad = names.filter((n) => !known.has(n));
  if (bad.length) {
    throw new ConfigError(
      `${variable}: unknown tool${bad.length > 1 ? "s" : ""} ${bad.map((n) => `"${n}"`).join(", ")}; ` +
        `valid: ${[...known].sort().join(", ")}`,
    );
  }
}

/**
 * The tools a server offers: the chosen toolsets (default: `default`; none when only TALOS_MCP_TOOLS is set),
 * plus the tools named in TALOS_MCP_TOOLS, minus TALOS_MCP_DISABLED_TOOLS, in ALL_TOOLS order. Read-only
 * mode filters the result further (lib/server.ts). Throws ConfigError naming the valid names.
 */
export function selectTools(
  config: Pick<Config, "toolsets" | "tools" | "disabledTools">,
  all: readonly ToolSpec[] = ALL_TOOLS,
): ToolSpec[] {
  const sets = parseToolsets(config.toolsets.length || config.tools.length ? config.toolsets : ["default"]);
  checkToolNames(config.tools, "TALOS_MCP_TOOLS (--tools)", all);
  checkToolNames(config.disabledTools, "TALOS_MCP_DISABLED_TOOLS (--disabled-tools)", all);
  const named = new Set(config.tools);
  const disabled = new Set(config.disabledTools);
  return all.filter((t) => {
    const set = TOOLSET_OF[t.name];
    return (named.has(t.name) || (set !== undefined && sets.has(set))) && !disabled.has(t.name);
  });
}
