/**
 * @module The compiled binary over stdio against the simulated cluster: the four
 * foundation tools across 3 control planes + 1 worker, with faults.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { entry, failed, type Harness, ok, spawnHarness, text } from "../harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await spawnHarness({ sim: { controlPlanes: 3, workers: 1 } });
});
afterAll(() => h?.close());

describe("talos_version", () => {
  test("answers per node, with one node down, naming every node", async () => {
    h.sim.cluster.nodes[2].faults.down = true;
    try {
      const r = ok(await h.call("talos_version"));
      expect(r.nodes.map((n: any) => n.node)).toEqual(["10.5.0.2", "10.5.0.3", "10.5.0.4", "10.5.0.5"]);
      const cp1 = entry(r, "10.5.0.2");
      expect(cp1).toMatchObject({
        hostname: "sim-cp-1",
        tag: "v1.13.9",
        os: "linux",
        arch: "amd64",
        platform: "metal",
      });
      expect(cp1.sha).toMatch(/^[0-9a-f]{7}$/);
      expect(cp1.error).toBeUndefined();
      const down = entry(r, "10.5.0.4");
      expect(down.code).toBe("UNAVAILABLE");
      expect(down.error).toContain("10.5.0.4");
      expect(down.tag).toBeUndefined();
      expect(entry(r, "10.5.0.5").hostname).toBe("sim-worker-1");
    } finally {
      h.sim.cluster.nodes[2].faults.down = false;
    }
  });

  test("fans out client-side: one single-valued `node` per call, never `nodes`", async () => {
    const before = h.sim.calls.length;
    ok(await h.call("talos_version", { nodes: ["10.5.0.3", "sim-worker-1"] }));
    const calls = h.sim.calls.slice(before).filter((c) => c.method.endsWith("/Version"));
    expect(calls.map((c) => c.node).sort()).toEqual([["10.5.0.3"], ["sim-worker-1"]]);
    expect(h.sim.calls.every((c) => c.nodes.length === 0)).toBe(true);
  });

  test("a slow node runs into the deadline without holding back the others", async () => {
    const slow = await spawnHarness({ simInstance: h.sim, env: { TALOS_MCP_TIMEOUT_MS: "400" } });
    // The slow node would answer after an hour: the call returning at all shows the deadline ended it.
    h.sim.cluster.nodes[1].faults.delayMs = 3_600_000;
    try {
      const r = ok(await slow.call("talos_version"));
      expect(entry(r, "10.5.0.3").code).toBe("DEADLINE_EXCEEDED");
      expect(entry(r, "10.5.0.3").error).toContain("did not answer");
      expect(entry(r, "10.5.0.2").tag).toBe("v1.13.9");
    } finally {
      h.sim.cluster.nodes[1].faults.delayMs = 0;
      await slow.close();
    }
  });
});

describe("talos_services", () => {
  test("lists services with state and health; unhealthy ones carry their message", async () => {
    const worker = h.sim.cluster.nodes[3];
    const kubelet = worker.services.find((s) => s.id === "kubelet")!;
    kubelet.healthy = false;
    kubelet.message = 'Get "http://127.0.0.1:10248/healthz": connection refused';
    try {
      const r = ok(await h.call("talos_services", { nodes: ["10.5.0.2", "10.5.0.5"] }));
      const cp = entry(r, "10.5.0.2").services;
      expect(cp.find((s: any) => s.id === "etcd")).toEqual({ id: "etcd", state: "Running", health: "healthy" });
      expect(cp.find((s: any) => s.id === "dashboard").health).toBe("unknown");
      const w = entry(r, "10.5.0.5").services;
      expect(w.some((s: any) => s.id === "etcd")).toBe(false);
      expect(w.find((s: any) => s.id === "kubelet")).toEqual({
        id: "kubelet",
        state: "Running",
        health: "unhealthy",
        message: kubelet.message,
      });
    } finally {
      kubelet.healthy = true;
      kubelet.message = "";
    }
  });
});

describe("talos_resource_definitions and talos_get", () => {
  test("definitions carry aliases and default namespaces; filter narrows them", async () => {
    const r = ok(await h.call("talos_resource_definitions", { filter: "machinestatus" }));
    expect(r.definitions).toEqual([
      { type: "MachineStatuses.runtime.talos.dev", namespace: "runtime", aliases: ["machinestatus", "ms"] },
    ]);
  });

  test("resolves an alias and the default namespace client-side, sending the canonical type", async () => {
    const before = h.sim.calls.length;
    const r = ok(await h.call("talos_get", { resource_type: "machinestatus", resource_id: "machine" }));
    expect(r.type).toBe("MachineStatuses.runtime.talos.dev");
    expect(r.namespace).toBe("runtime");
    expect(entry(r, "10.5.0.3").resources[0].spec).toEqual({
      stage: "running",
      status: { ready: true, unmetConditions: [] },
    });
    const gets = h.sim.calls.slice(before).filter((c) => c.method === "/cosi.resource.State/Get");
    expect(gets).toHaveLength(4);
    expect(gets[0].request).toMatchObject({
      namespace: "runtime",
      type: "MachineStatuses.runtime.talos.dev",
      id: "machine",
    });
  });

  test("lists a type as structured specs, bounded by limit", async () => {
    const r = ok(await h.call("talos_get", { resource_type: "svc", nodes: ["10.5.0.2"], limit: 3 }));
    const e = entry(r, "10.5.0.2");
    expect(e.resources).toHaveLength(3);
    expect(e.more).toBe(true);
    expect(e.resources[0]).toMatchObject({ id: "apid", spec: { running: true, healthy: true } });
    expect(r.truncated.tool_limit).toBe("listing stopped at limit=3 resources on 1 node(s) (more: true)");
    const all = ok(await h.call("talos_get", { resource_type: "svc", nodes: ["10.5.0.2"] }));
    expect(all.truncated).toBeUndefined();
  });

  test("machine config comes back as parsed documents with secrets masked", async () => {
    const r = ok(await h.call("talos_get", { resource_type: "mc", resource_id: "v1alpha1", nodes: ["10.5.0.2"] }));
    const docs = entry(r, "10.5.0.2").resources[0].spec;
    expect(docs).toHaveLength(2);
    expect(docs[0].machine.type).toBe("controlplane");
    expect(docs[0].machine.token).toBe("<masked: token>");
    expect(docs[0].cluster.secret).toBe("<masked: secret>");
    expect(docs[0].cluster.ca.key).toBe("<masked: private key>");
    expect(docs[0].cluster.ca.crt).toStartWith("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t");
    expect(docs[1].kind).toBe("HostnameConfig");
    const raw = text(await h.call("talos_get", { resource_type: "mc", resource_id: "v1alpha1", nodes: ["10.5.0.2"] }));
    const node = h.sim.cluster.nodes[0];
    expect(raw).not.toContain(/token: (\S+)/.exec(node.machineConfig)![1]);
    expect(raw).not.toContain("PRIVATE KEY");
  });

  test("an unknown type says how to find the right one, without a COSI call", async () => {
    const before = h.sim.callsTo("Get").length;
    const r = await h.call("talos_get", { resource_type: "no-such-thing", resource_id: "x" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("talos_resource_definitions");
    expect(h.sim.callsTo("Get").length).toBe(before);
  });

  test("error texts pass the secret masker too (an echoed argument that looks like a token)", async () => {
    const r = await h.call("talos_get", { resource_type: "abcdef.0123456789abcdef" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('Resource type "<masked: token>" is not registered');
    expect(text(r)).not.toContain("0123456789abcdef");
  });

  test("a reader certificate is refused machine config, and the error names the role", async () => {
    const reader = await spawnHarness({ simInstance: h.sim, env: { TALOS_CONTEXT: "sim-reader" } });
    try {
      const r = failed(await reader.call("talos_get", { resource_type: "machineconfig", nodes: ["10.5.0.2"] }));
      const e = entry(r, "10.5.0.2");
      expect(e.code).toBe("PERMISSION_DENIED");
      expect(e.error).toContain("os:reader");
      expect(e.error).toContain("os:admin");
      // Non-sensitive reads work with the same certificate.
      expect(entry(ok(await reader.call("talos_version", { nodes: ["10.5.0.2"] })), "10.5.0.2").tag).toBe("v1.13.9");
    } finally {
      await reader.close();
    }
  });

  test("a stream cut mid-way is reported for that node only", async () => {
    h.sim.cluster.nodes[1].faults.cutStreamAfter = 2;
    try {
      const r = ok(await h.call("talos_get", { resource_type: "svc", nodes: ["10.5.0.2", "10.5.0.3"] }));
      expect(entry(r, "10.5.0.3").error).toContain("stream cut");
      expect(entry(r, "10.5.0.2").resources.length).toBeGreaterThan(5);
    } finally {
      h.sim.cluster.nodes[1].faults.cutStreamAfter = undefined;
    }
  });
});

describe("context selection", () => {
  test("the context argument picks a talosconfig context per call", async () => {
    const r = await h.call("talos_get", { context: "sim-reader", resource_type: "mc", nodes: ["10.5.0.2"] });
    expect(entry(failed(r), "10.5.0.2").code).toBe("PERMISSION_DENIED");
    const unknown = await h.call("talos_version", { context: "prod" });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('Context "prod" not found');
    expect(text(unknown)).toContain("sim-reader");
  });
});

describe("warm-up", () => {
  test("connects after initialize and warns about nodes outside the tested Talos range", async () => {
    const old = await spawnHarness({ sim: { controlPlanes: 1, workers: 1, version: ["v1.13.9", "v1.8.3"] } });
    try {
      const warning = old.logs().find((l) => l.level === "warning");
      expect(warning?.data).toContain("node 10.5.0.3 runs Talos v1.8.3, outside the range");
      expect(old.stderr()).toContain("node 10.5.0.3 runs Talos v1.8.3");
      expect(old.logs().some((l) => l.data.includes("10.5.0.2 runs"))).toBe(false);
      // The warm-up asked every node once, with `node` metadata.
      expect(old.sim.callsTo("Version").map((c) => c.node[0]).sort()).toEqual(["10.5.0.2", "10.5.0.3"]);
    } finally {
      await old.close();
    }
  });

  test("TALOS_MCP_WARMUP=false sends nothing until a tool is called", async () => {
    const quiet = await spawnHarness({ sim: { controlPlanes: 1, workers: 0 }, env: { TALOS_MCP_WARMUP: "false" } });
    try {
      await quiet.client.listTools();
      expect(quiet.sim.calls).toHaveLength(0);
    } finally {
      await quiet.close();
    }
  });
});
