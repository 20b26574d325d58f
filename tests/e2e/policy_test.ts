/**
 * @module Role-aware tools and TALOS_MCP_ALLOWED_NODES through the binary: tools/list
 * offers what the default context's certificate can use; a call with another
 * context is refused naming the role; a node outside the allowlist gets no RPC.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { entry, ok, spawnHarness, text } from "../harness.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 2, workers: 1 });
});
afterAll(() => sim?.stop());

async function names(env: Record<string, string>): Promise<string[]> {
  const h = await spawnHarness({ simInstance: sim, env });
  try {
    return (await h.client.listTools()).tools.map((t) => t.name);
  } finally {
    await h.close();
  }
}

describe("role-aware tools/list", () => {
  test("admin sees every tool; operator loses the admin-only ones; reader the mutating ones too (but META, which it may read)", async () => {
    const admin = await names({});
    const operator = await names({ TALOS_CONTEXT: "sim-operator" });
    const reader = await names({ TALOS_CONTEXT: "sim-reader" });
    expect(admin).toContain("talos_kubeconfig");
    expect(admin.filter((n) => !operator.includes(n)).sort()).toEqual([
      "talos_apply_config",
      "talos_bootstrap",
      "talos_kubeconfig",
      "talos_patch_config",
      "talos_read_file",
      "talos_reset",
      "talos_rollback",
      "talos_talosconfig_issue",
      "talos_upgrade",
      "talos_upgrade_cluster",
      "talos_upgrade_kubernetes",
    ]);
    expect(admin.filter((n) => !reader.includes(n)).sort()).toEqual([
      "talos_apply_config",
      "talos_bootstrap",
      "talos_etcd_maintenance",
      "talos_etcd_snapshot",
      "talos_image_pull",
      "talos_kubeconfig",
      "talos_patch_config",
      "talos_read_file",
      "talos_reboot",
      "talos_reset",
      "talos_rollback",
      "talos_service_action",
      "talos_shutdown",
      "talos_talosconfig_issue",
      "talos_upgrade",
      "talos_upgrade_cluster",
      "talos_upgrade_kubernetes",
    ]);
    expect(reader).toContain("talos_node_summary");
  });

  test("a hidden tool can still be called with a context that has the role", async () => {
    const h = await spawnHarness({ simInstance: sim, env: { TALOS_CONTEXT: "sim-reader" } });
    try {
      const n = sim.callsTo("ImageService/Pull").length;
      const refused = await h.call("talos_image_pull", { nodes: ["10.5.0.2"], image: "busybox:1", confirm: true });
      expect(text(refused)).toContain("needs a certificate with role os:admin or os:operator");
      expect(sim.callsTo("ImageService/Pull").length).toBe(n);
      const r = ok(
        await h.call("talos_image_pull", {
          nodes: ["10.5.0.2"],
          image: "busybox:1",
          confirm: true,
          context: "sim-operator",
        }),
      );
      expect(entry(r, "10.5.0.2").via).toBe("ImageService.Pull");
    } finally {
      await h.close();
    }
  });
});

describe("TALOS_MCP_ALLOWED_NODES", () => {
  test("a refused node gets no RPC at all, allowed ones answer", async () => {
    const h = await spawnHarness({
      simInstance: sim,
      env: { TALOS_MCP_ALLOWED_NODES: "10.5.0.2/32,sim-worker-1", TALOS_MCP_WARMUP: "false" },
    });
    try {
      const n = sim.calls.length;
      const r = ok(await h.call("talos_node_summary", { nodes: ["10.5.0.2", "10.5.0.3", "sim-worker-1"] }));
      expect(entry(r, "10.5.0.2").role).toBe("controlplane");
      expect(entry(r, "sim-worker-1").role).toBe("worker");
      const refused = entry(r, "10.5.0.3");
      expect(refused.code).toBe("DENIED");
      expect(refused.error).toContain("Node 10.5.0.3 is not allowed");
      const targets = new Set(sim.calls.slice(n).map((c) => c.node[0]));
      expect(targets.has("10.5.0.3")).toBe(false);
      expect([...targets].sort()).toEqual(["10.5.0.2", "sim-worker-1"]);
    } finally {
      await h.close();
    }
  });

  test("default nodes outside the list are refused too; single-node tools fail whole", async () => {
    const h = await spawnHarness({
      simInstance: sim,
      env: { TALOS_MCP_ALLOWED_NODES: "10.5.0.4", TALOS_MCP_WARMUP: "false" },
    });
    try {
      const n = sim.calls.length;
      const r = ok(await h.call("talos_version"));
      expect(r.nodes.filter((e: { code?: string }) => e.code === "DENIED").map((e: { node: string }) => e.node))
        .toEqual(["10.5.0.2", "10.5.0.3"]);
      expect(entry(r, "10.5.0.4").tag).toBe("v1.13.9");
      const k = await h.call("talos_resource_definitions", { node: "10.5.0.2" });
      expect(k.isError).toBe(true);
      expect(text(k)).toContain("TALOS_MCP_ALLOWED_NODES");
      expect(sim.calls.slice(n).every((c) => c.node[0] === "10.5.0.4")).toBe(true);
    } finally {
      await h.close();
    }
  });
});

describe("TALOS_MCP_ALLOWED_CONTEXTS in talos_contexts", () => {
  test("contexts the server may not use are marked", async () => {
    const h = await spawnHarness({ simInstance: sim, env: { TALOS_MCP_ALLOWED_CONTEXTS: "sim,sim-reader" } });
    try {
      const v = ok(await h.call("talos_contexts"));
      expect(v.contexts.map((c: { name: string; allowed?: boolean }) => [c.name, c.allowed ?? true])).toEqual([
        ["sim", true],
        ["sim-operator", false],
        ["sim-reader", true],
      ]);
      const r = await h.call("talos_node_summary", { context: "sim-operator" });
      expect(text(r)).toContain("TALOS_MCP_ALLOWED_CONTEXTS permits: sim, sim-reader");
    } finally {
      await h.close();
    }
  });
});
