/**
 * @module MCP resources, subscriptions, completion and prompts through the binary:
 * a COSI resource read by URI (masked), a subscription that turns a COSI
 * Watch event into notifications/resources/updated and is cancelled on
 * unsubscribe, completion of context, node and type, and the four prompts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { type Harness, spawnHarness } from "../harness.ts";

let sim: Sim;
let h: Harness;
const updates: string[] = [];
const waiters: Array<() => void> = [];
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 1, workers: 1 });
  h = await spawnHarness({ simInstance: sim });
  h.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push(n.params.uri);
    for (const w of waiters.splice(0)) w();
  });
});
afterAll(async () => {
  await h?.close();
  await sim?.stop();
});

/** Resolves when `count` updates have arrived (the test's own timeout bounds it). */
function updatesReach(count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (updates.length >= count ? resolve() : waiters.push(check));
    check();
  });
}

describe("resources", () => {
  test("the template and capabilities are declared", async () => {
    const caps = h.client.getServerCapabilities()!;
    expect(caps.resources).toEqual({ subscribe: true });
    expect(caps.prompts).toBeDefined();
    expect(caps.completions).toBeDefined();
    const { resourceTemplates } = await h.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(["talos://{context}/nodes/{node}/{type}/{id}"]);
    const { resources } = await h.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual([
      "ui://talos-mcp/cluster",
      "talos://sim/nodes/10.5.0.2/machinestatus/machine",
      "talos://sim/nodes/10.5.0.3/machinestatus/machine",
    ]);
  });

  test("read returns the spec by alias; ids with slashes work; secrets are masked", async () => {
    const r = await h.client.readResource({ uri: "talos://sim/nodes/10.5.0.3/svc/kubelet" });
    const v = JSON.parse((r.contents[0] as { text: string }).text);
    expect(v).toMatchObject({
      id: "kubelet",
      type: "Services.v1alpha1.talos.dev",
      spec: { running: true, healthy: true },
    });
    const a = await h.client.readResource({ uri: "talos://sim/nodes/10.5.0.2/addresses/eth0%2F10.5.0.2%2F24" });
    expect(JSON.parse((a.contents[0] as { text: string }).text).spec.address).toBe("10.5.0.2/24");
    const mc = await h.client.readResource({ uri: "talos://sim/nodes/10.5.0.2/machineconfig/v1alpha1" });
    const text = (mc.contents[0] as { text: string }).text;
    expect(text).toContain("<masked:");
    expect(text).not.toContain("PRIVATE KEY-----");
  });

  test("read errors are actionable", async () => {
    await expect(h.client.readResource({ uri: "talos://sim/nodes/10.5.0.2/nosuchtype/x" })).rejects.toThrow(
      /not registered on this node/,
    );
    await expect(h.client.readResource({ uri: "talos://sim/nodes/10.5.0.2" })).rejects.toThrow(/Expected talos:\/\//);
    await expect(h.client.readResource({ uri: "talos://sim-reader/nodes/10.5.0.2/machineconfig/v1alpha1" }))
      .rejects.toThrow(/PERMISSION_DENIED/);
    // Error texts are masked like contents: an echoed type that looks like a bootstrap token.
    const err = await h.client.readResource({ uri: "talos://sim/nodes/10.5.0.2/abcdef.0123456789abcdef/x" })
      .then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain('Resource type "<masked: token>" is not registered');
    expect(err?.message).not.toContain("0123456789abcdef");
  });

  test("subscribe watches (api_version 1), a change notifies, unsubscribe cancels the stream", async () => {
    const uri = "talos://sim/nodes/10.5.0.3/services/kubelet";
    await h.client.subscribeResource({ uri });
    const watch = sim.callsTo("Watch").at(-1)!;
    expect(watch.node).toEqual(["10.5.0.3"]);
    expect(watch.request).toMatchObject({
      namespace: "runtime",
      type: "Services.v1alpha1.talos.dev",
      id: "kubelet",
      api_version: 1,
    });
    expect(updates).toEqual([]); // the initial state is not a change
    sim.cluster.setService("10.5.0.3", "kubelet", { healthy: false, message: "probe failed" });
    await updatesReach(1);
    expect(updates).toEqual([uri]);
    const r = await h.client.readResource({ uri });
    expect(JSON.parse((r.contents[0] as { text: string }).text).spec.healthy).toBe(false);

    await h.client.unsubscribeResource({ uri });
    await sim.cluster.watchersAtMost(0); // the Watch stream was cancelled on the node's side too
    sim.cluster.setService("10.5.0.3", "kubelet", { healthy: true, message: "" });
    // A change on another subscribed resource proves notifications still flow, and none came for kubelet.
    const other = "talos://sim/nodes/10.5.0.3/services/apid";
    await h.client.subscribeResource({ uri: other });
    sim.cluster.setService("10.5.0.3", "apid", { healthy: false, message: "x" });
    await updatesReach(2);
    expect(updates).toEqual([uri, other]);
    await h.client.unsubscribeResource({ uri: other });
    sim.cluster.setService("10.5.0.3", "apid", { healthy: true, message: "" });
  });

  test("a watch that is not established in time fails the subscribe, naming the setting; a later one works", async () => {
    const quick = await spawnHarness({ simInstance: sim, env: { TALOS_MCP_TIMEOUT_MS: "500" } });
    const node = sim.cluster.find("10.5.0.3")!;
    try {
      const uri = "talos://sim/nodes/10.5.0.3/services/kubelet";
      await quick.client.readResource({ uri }); // the type lookup is cached: only the Watch is slow below
      const watches = sim.callsTo("Watch").length;
      node.faults.delayMs = 10_000;
      const err = await quick.client.subscribeResource({ uri }).then(() => undefined, (e: Error) => e);
      expect(err?.message).toContain(`The watch on ${uri} was not established within 500 ms (TALOS_MCP_TIMEOUT_MS)`);
      expect(sim.callsTo("Watch").length).toBe(watches + 1);
      node.faults.delayMs = 0;
      await quick.client.subscribeResource({ uri });
      await quick.client.unsubscribeResource({ uri });
      await sim.cluster.watchersAtMost(0);
    } finally {
      node.faults.delayMs = 0;
      await quick.close();
    }
  });
});

describe("completion", () => {
  const ref = { type: "ref/resource" as const, uri: "talos://{context}/nodes/{node}/{type}/{id}" };
  test("contexts, nodes of the chosen context, and types from the node", async () => {
    const c = await h.client.complete({ ref, argument: { name: "context", value: "sim-" } });
    expect(c.completion.values).toEqual(["sim-operator", "sim-reader"]);
    const n = await h.client.complete({
      ref,
      argument: { name: "node", value: "10.5.0." },
      context: { arguments: { context: "sim" } },
    });
    expect(n.completion.values).toEqual(["10.5.0.2", "10.5.0.3"]);
    const t = await h.client.complete({
      ref,
      argument: { name: "type", value: "machine" },
      context: { arguments: { context: "sim", node: "10.5.0.2" } },
    });
    expect(t.completion.values).toContain("machinestatus");
    expect(t.completion.values).toContain("machineconfig");
    expect(t.completion.values.every((v) => v.toLowerCase().startsWith("machine"))).toBe(true);
  });
});

describe("prompts", () => {
  test("four prompts; arguments filled in; missing required ones refused", async () => {
    const { prompts } = await h.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual([
      "troubleshoot_node",
      "check_cluster_health",
      "plan_upgrade",
      "review_config_patch",
    ]);
    const p = await h.client.getPrompt({ name: "plan_upgrade", arguments: { version: "v1.14.2", context: "prod" } });
    const text = (p.messages[0].content as { text: string }).text;
    expect(text).toContain('talos_upgrade_plan with version: "v1.14.2"');
    expect(text).toContain("one minor version per step");
    expect(text).toContain('context: "prod"');
    const t = await h.client.getPrompt({ name: "troubleshoot_node", arguments: { node: "10.5.0.3" } });
    expect((t.messages[0].content as { text: string }).text).toContain('talos_node_summary with nodes: ["10.5.0.3"]');
    await expect(h.client.getPrompt({ name: "review_config_patch", arguments: {} })).rejects.toThrow(/needs patch/);
  });
});
