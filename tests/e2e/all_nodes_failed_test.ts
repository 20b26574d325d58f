/**
 * @module The result convention over every tool: when every targeted node fails, the call is an error
 * (isError), never a success with errors inside; the structured result still lists each node.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sim } from "../../lib/sim/mod.ts";
import { startSim } from "../../lib/sim/mod.ts";
import { ALL_TOOLS } from "../../lib/tools/mod.ts";
import { type Harness, inMemoryHarness, text } from "../harness.ts";

/** Tools that target no node: the convention does not apply to them. */
const NO_NODES = new Set(["talos_contexts", "talos_validate"]);

const N = ["10.5.0.2", "10.5.0.5"];
const OUT = mkdtempSync(join(tmpdir(), "talos-mcp-all-failed-"));
const CONFIG = join(OUT, "config.yaml");

/**
 * Tools whose failure is one plain error, not a per-node list: they target one node (`node`), or a guard must
 * ask the nodes before anything else (the etcd quorum guard, the upgrade path, the plan's facts) and fails first.
 */
const NO_NODE_LIST = new Set([
  "talos_apply_config", // its precondition reads the node's config first
  "talos_bootstrap", // its precondition asks every control plane whether etcd runs
  "talos_get", // the type is resolved from a node's resource definitions first
  "talos_rollback", // the etcd quorum guard
  "talos_etcd_snapshot",
  "talos_health",
  "talos_kubeconfig",
  "talos_reboot",
  "talos_reset",
  "talos_resource_definitions",
  "talos_shutdown",
  "talos_talosconfig_issue",
  "talos_upgrade",
  "talos_upgrade_cluster",
  "talos_upgrade_kubernetes",
  "talos_upgrade_plan",
]);

/** Arguments that would succeed on a healthy cluster: what fails below is the nodes, not the call. */
const ARGS: Record<string, Record<string, unknown>> = {
  talos_apply_config: { nodes: [N[1]], config_file: CONFIG },
  talos_bootstrap: { nodes: [N[0]], confirm: true },
  talos_meta: { nodes: N, action: "read" },
  talos_reset: { nodes: N, confirm: true },
  talos_shutdown: { nodes: N, confirm: true },
  talos_containers: { nodes: N },
  talos_disks: { nodes: N },
  talos_dmesg: { nodes: N },
  talos_etcd: {},
  talos_etcd_snapshot: { node: N[0], path: join(OUT, "snapshot.db") },
  talos_etcd_maintenance: { nodes: [N[0]], action: "defrag", confirm: true },
  talos_support_bundle: { nodes: N, path: join(OUT, "bundle.tar.gz") },
  talos_talosconfig_issue: { node: N[0], path: join(OUT, "talosconfig") },
  talos_events: { nodes: N },
  talos_get: { nodes: N, resource_type: "members" },
  talos_health: { node: N[0], wait_timeout: "1s" },
  talos_image_pull: { nodes: N, image: "ghcr.io/siderolabs/installer:v1.13.9", confirm: true },
  talos_images: { nodes: N },
  talos_kubeconfig: { node: N[0], path: join(OUT, "kubeconfig") },
  talos_list_files: { nodes: N, path: "/etc" },
  talos_logs: { nodes: N, service_name: "kubelet" },
  talos_mounts: { nodes: N },
  talos_netstat: { nodes: N },
  talos_network: { nodes: N },
  talos_node_summary: {},
  talos_patch_config: { nodes: N, patch: "machine:\n  env:\n    A: b\n" },
  talos_processes: { nodes: N },
  talos_read_file: { nodes: N, path: "/etc/os-release" },
  talos_reboot: { nodes: N, confirm: true },
  talos_resource_definitions: { node: N[0] },
  talos_rollback: { nodes: N, confirm: true },
  talos_service_action: { nodes: N, service_name: "kubelet", action: "restart", confirm: true },
  talos_services: {},
  talos_stats: {},
  talos_upgrade: { nodes: N, image: "ghcr.io/siderolabs/installer:v1.13.10", confirm: true },
  talos_upgrade_cluster: { nodes: N, version: "v1.13.10" },
  talos_upgrade_kubernetes: { nodes: N, version: "v1.35.0" },
  talos_upgrade_plan: { version: "v1.13.10" },
  talos_version: {},
};

let sim: Sim;
let h: Harness;

beforeAll(async () => {
  sim = await startSim();
  writeFileSync(CONFIG, sim.cluster.find(N[1])!.machineConfig);
  h = await inMemoryHarness({ simInstance: sim, env: { TALOS_MCP_WARMUP: "false", HOME: sim.dir } });
});
afterAll(async () => {
  await h.close();
  await sim.stop();
  rmSync(OUT, { recursive: true, force: true });
});

describe("every targeted node failing is an error", () => {
  test("the table covers every tool that targets nodes", () => {
    const names = ALL_TOOLS.map((t) => t.name).filter((n) => !NO_NODES.has(n)).sort();
    expect(Object.keys(ARGS).sort()).toEqual(names);
  });

  test.each(Object.keys(ARGS))("%s", async (name) => {
    for (const n of sim.cluster.nodes) n.faults.down = true;
    try {
      const r = await h.call(name, ARGS[name]);
      expect(r.isError).toBe(true);
      // The text names a node and why it failed; per-node results keep every node in structuredContent.
      expect(text(r)).toMatch(/10\.5\.0\.\d|control-plane|unreachable|UNAVAILABLE/);
      const nodes = (r.structuredContent as { nodes?: Array<{ node: string; code?: string }> } | undefined)?.nodes;
      if (NO_NODE_LIST.has(name)) {
        expect(nodes).toBeUndefined(); // a plain error: the text says what failed
        return;
      }
      // Per-node tools keep every targeted node in structuredContent, each with its error code.
      const asked = ARGS[name].nodes as string[] | undefined;
      if (asked) expect(nodes!.map((e) => e.node).sort()).toEqual([...asked].sort());
      else expect(nodes!.length).toBeGreaterThan(0);
      for (const e of nodes!) expect(e.code).toBeTruthy();
    } finally {
      for (const n of sim.cluster.nodes) n.faults.down = false;
    }
  });

  test("partial success is not an error", async () => {
    sim.cluster.nodes[4 - 1].faults.down = true; // the worker
    try {
      const r = await h.call("talos_version", { nodes: ["10.5.0.2", "10.5.0.5"] });
      expect(r.isError).toBeFalsy();
      const nodes = (r.structuredContent as { nodes: Array<{ node: string; error?: string }> }).nodes;
      expect(nodes.map((n) => !!n.error)).toEqual([false, true]);
    } finally {
      sim.cluster.nodes[3].faults.down = false;
    }
  });
});
