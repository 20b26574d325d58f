/**
 * @module The agent-facing surface, reviewed: a snapshot of tools/list (default and
 * read-only) and invariants every tool must keep. UPDATE_SNAPSHOTS=1 rewrites
 * the snapshots; under CI a missing snapshot fails.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { ALL_TOOLS } from "../lib/tools/mod.ts";
import { listTools, modelReadBytes, readBytes } from "./tools_size.ts";

const DESCRIPTION_BUDGET = 400;
const NO_CLUSTER = new Set(["talos_contexts", "talos_validate"]);

/** What the model reads of one tool (name, description, input schema), bytes: on average, and at most. */
const TOOL_AVERAGE_BUDGET = 1024;
const TOOL_BUDGET = 1536;

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

function matchSnapshot(name: string, tools: Tool[]) {
  const file = join(import.meta.dir, "snapshots", `${name}.json`);
  const actual = JSON.stringify(sortKeys([...tools].sort((a, b) => a.name.localeCompare(b.name))), null, 2) + "\n";
  if (process.env.UPDATE_SNAPSHOTS === "1" || (!existsSync(file) && !process.env.CI)) {
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`snapshot ${file} is missing; run UPDATE_SNAPSHOTS=1 bun test locally`);
  expect(actual).toBe(readFileSync(file, "utf8"));
}

describe("tools/list", () => {
  test("default mode matches the reviewed snapshot", async () => {
    matchSnapshot("tools_list", await listTools({}));
  });

  test("read-only mode matches the reviewed snapshot", async () => {
    matchSnapshot("tools_list_read_only", await listTools({ TALOS_MCP_READ_ONLY: "true" }));
  });

  test("every tool keeps the invariants", async () => {
    const tools = await listTools({});
    expect(tools.length).toBe(ALL_TOOLS.length);
    for (const t of tools) {
      const a = t.annotations!;
      expect(t.name).toMatch(/^talos_[a-z_]+$/);
      expect(typeof a.readOnlyHint).toBe("boolean");
      // A read-only tool that talks to the cluster says only that (the other hints mean nothing then, and
      // openWorldHint defaults to true); any other tool spells out all four.
      if (a.readOnlyHint && a.openWorldHint !== false) expect(Object.keys(a)).toEqual(["readOnlyHint"]);
      else {for (const k of ["destructiveHint", "idempotentHint", "openWorldHint"]) {
          expect(typeof a[k as keyof typeof a]).toBe("boolean");
        }}
      expect(t.title).toBeTruthy();
      expect(t.description!.length).toBeLessThanOrEqual(DESCRIPTION_BUDGET);
      for (const schema of [t.inputSchema, t.outputSchema!]) {
        expect(schema.type).toBe("object");
        for (const k of ["anyOf", "oneOf", "allOf"]) expect(schema).not.toHaveProperty(k);
      }
      expect((t.inputSchema as Record<string, unknown>).additionalProperties).toBe(false);
      // Tools that reach no cluster take no context: talos_contexts lists every context of the talosconfig,
      // talos_validate checks a config offline. They call no RPC and say so in openWorldHint.
      if (NO_CLUSTER.has(t.name)) {
        expect(ALL_TOOLS.find((x) => x.name === t.name)!.rpcs).toEqual([]);
        expect(a.openWorldHint).toBe(false);
        expect(Object.keys(t.inputSchema.properties ?? {})).not.toContain("context");
      } else expect(Object.keys(t.inputSchema.properties ?? {})).toContain("context");
    }
  });

  test("every mutating tool declares confirm, is destructive, needs explicit nodes, and is hidden read-only", async () => {
    const tools = await listTools({});
    const readOnly = new Set((await listTools({ TALOS_MCP_READ_ONLY: "true" })).map((t) => t.name));
    // Cluster-changing tools are the destructive ones; the rest of the non-read-only tools only write local files.
    const mutating = tools.filter((t) => t.annotations?.readOnlyHint === false && t.annotations.destructiveHint);
    const localWriters = tools.filter((t) => t.annotations?.readOnlyHint === false && !t.annotations.destructiveHint);
    expect(localWriters.map((t) => t.name).sort()).toEqual([
      "talos_etcd_snapshot",
      "talos_kubeconfig",
      "talos_support_bundle",
      "talos_talosconfig_issue",
    ]);
    for (const t of localWriters) {
      expect(Object.keys(t.inputSchema.properties ?? {})).toContain("overwrite");
      expect(readOnly.has(t.name)).toBe(false);
    }
    expect(mutating.map((t) => t.name).sort()).toEqual([
      "talos_apply_config",
      "talos_bootstrap",
      "talos_etcd_maintenance",
      "talos_image_pull",
      "talos_meta",
      "talos_patch_config",
      "talos_reboot",
      "talos_reset",
      "talos_rollback",
      "talos_service_action",
      "talos_shutdown",
      "talos_upgrade",
      "talos_upgrade_cluster",
      "talos_upgrade_kubernetes",
    ]);
    for (const t of mutating) {
      expect(ALL_TOOLS.find((s) => s.name === t.name)!.confirm).toBe(true);
      expect(t.annotations!.destructiveHint).toBe(true);
      const props = t.inputSchema.properties as Record<string, { type?: string; minItems?: number }>;
      expect(props.confirm.type).toBe("boolean");
      const spec = ALL_TOOLS.find((s) => s.name === t.name)!;
      if (spec.dryRunAllNodes) {
        // A whole-cluster plan may leave nodes out; the confirm guard requires them for a run (upgrade_cluster_test).
        expect(spec.dryRun!({} as never)).toBe(true);
        expect(t.inputSchema.required ?? []).not.toContain("nodes");
      } else {
        expect(props.nodes.minItems).toBe(1);
        expect(t.inputSchema.required).toContain("nodes");
      }
      expect(t.inputSchema.required ?? []).not.toContain("confirm"); // refused with a message instead
      expect(readOnly.has(t.name)).toBe(false);
    }
    // And the other way round: a tool with confirm is never read-only.
    for (const spec of ALL_TOOLS.filter((s) => s.confirm)) expect(spec.annotations.readOnlyHint).toBe(false);
  });

  test(`what the model reads: ≤ ${TOOL_AVERAGE_BUDGET} bytes per tool on average, none over ${TOOL_BUDGET}`, async () => {
    const tools = await listTools({});
    expect(modelReadBytes(tools) / tools.length).toBeLessThanOrEqual(TOOL_AVERAGE_BUDGET);
    const over = tools.filter((t) => readBytes(t) > TOOL_BUDGET).map((t) => `${t.name}: ${readBytes(t)}`);
    expect(over).toEqual([]);
  });

  test("read-only mode lists only read-only tools", async () => {
    const tools = await listTools({ TALOS_MCP_READ_ONLY: "true" });
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
  });
});
