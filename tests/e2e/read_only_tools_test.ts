/**
 * @module The read-only tools through the compiled binary against the simulated
 * cluster (3 control planes + 1 worker): several nodes, one node down, a
 * reader certificate, bounds, masking and the wire requests the simulator saw.
 * Node files (talos_list_files, talos_read_file, the path allowlist) are in files_test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { bigLog } from "../../lib/sim/logs.ts";
import { plantFault } from "../../lib/sim/scenarios.ts";
import { callsSince, entry, failed, type Harness, ok, spawnHarness, text, withNodeDown } from "../harness.ts";

let h: Harness;
const ALL = ["10.5.0.2", "10.5.0.3", "10.5.0.4", "10.5.0.5"];

beforeAll(async () => {
  h = await spawnHarness({ sim: { controlPlanes: 3, workers: 1 } });
});
afterAll(() => h?.close());

const withDown = <T>(i: number, fn: () => Promise<T>) => withNodeDown(h.sim, i, fn);
const since = () => callsSince(h.sim);

describe("talos_containers", () => {
  test("Kubernetes containers per node, pod sandboxes folded away, a down node reported", async () => {
    const calls = since();
    const r = ok(await withDown(2, () => h.call("talos_containers")));
    expect(r.nodes.map((n: any) => n.node)).toEqual(ALL);
    const cp = entry(r, "10.5.0.2").containers;
    expect(cp.find((c: any) => c.name === "kube-apiserver")).toMatchObject({
      id: "kube-system/kube-apiserver-sim-cp-1:kube-apiserver",
      pod: "kube-system/kube-apiserver-sim-cp-1",
      image: "registry.k8s.io/kube-apiserver:v1.34.1",
      state: "running",
    });
    expect(cp.every((c: any) => c.id.includes(":"))).toBe(true); // no pause sandboxes
    expect(entry(r, "10.5.0.5").containers.some((c: any) => c.name === "coredns")).toBe(true);
    expect(entry(r, "10.5.0.4").code).toBe("UNAVAILABLE");
    expect(calls("Containers").map((c) => c.request)).toContainEqual({ namespace: "k8s.io", driver: "CRI" });
  });

  test("namespace=system lists Talos' own containers with the containerd driver", async () => {
    const calls = since();
    const r = ok(await h.call("talos_containers", { namespace: "system", nodes: ["10.5.0.2", "10.5.0.5"] }));
    expect(entry(r, "10.5.0.2").containers.map((c: any) => c.id)).toContain("etcd");
    expect(entry(r, "10.5.0.5").containers.map((c: any) => c.id)).not.toContain("etcd");
    expect(calls("Containers")[0].request).toEqual({ namespace: "system", driver: "CONTAINERD" });
  });
});

describe("talos_processes", () => {
  test("top N by memory, with the cut said, and secrets on command lines masked", async () => {
    const r = ok(await h.call("talos_processes", { nodes: ["10.5.0.2", "10.5.0.5"], sort: "memory", limit: 2 }));
    const cp = entry(r, "10.5.0.2");
    expect(cp.processes).toHaveLength(2);
    expect(cp.processes[0].command).toBe("kube-apiserver");
    expect(cp.processes[0].rss_bytes).toBeGreaterThanOrEqual(cp.processes[1].rss_bytes);
    expect(cp.total).toBeGreaterThan(2);
    expect(r.truncated.tool_limit).toContain("limit=2");
    const all = ok(await h.call("talos_processes", { nodes: ["10.5.0.5"], limit: 500 }));
    const agent = entry(all, "10.5.0.5").processes.find((p: any) => p.command === "backup-agent");
    expect(agent.args).toContain("--api-token=<masked: secret>");
    expect(JSON.stringify(all)).not.toMatch(/Sup3rS3cretPw|tk_live_9f8e7d6c5b4a/);
  });
});

describe("talos_logs", () => {
  test("the last N lines of a service, tail_lines sent as asked, tokens masked", async () => {
    const calls = since();
    const r = ok(await withDown(1, () => h.call("talos_logs", { service_name: "kubelet", tail_lines: 4 })));
    const lines = entry(r, "10.5.0.2").lines;
    expect(lines).toHaveLength(4);
    expect(lines.join("\n")).toContain('token="<masked: token>"');
    expect(lines.join("\n")).toContain("Bearer <masked:");
    expect(JSON.stringify(r)).not.toMatch(/abcdef\.0123456789abcdef|eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ/);
    expect(entry(r, "10.5.0.3").code).toBe("UNAVAILABLE");
    expect(entry(r, "10.5.0.5").lines).toHaveLength(4);
    const req = calls("Logs").map((c) => c.request as any);
    expect(req.every((q) => q.tail_lines === 4 && q.namespace === "system" && q.follow === false)).toBe(true);
  });

  test("grep scans the whole log (tail_lines -1 on the wire) and keeps the last matches", async () => {
    const calls = since();
    const r = ok(
      await h.call("talos_logs", { service_name: "etcd", nodes: ["10.5.0.2"], tail_lines: 3, grep: "took too LONG" }),
    );
    const e = entry(r, "10.5.0.2");
    expect(e.lines).toHaveLength(3);
    expect(e.lines.every((l: string) => l.includes("took too long"))).toBe(true);
    expect(e.scanned).toBe(400);
    expect(e.matched).toBe(200);
    expect((calls("Logs")[0].request as any).tail_lines).toBe(-1);
    // Nested quantifiers are fine under RE2 (linear time): same lines as the plain pattern.
    const nested = ok(
      await h.call("talos_logs", {
        service_name: "etcd",
        nodes: ["10.5.0.2"],
        tail_lines: 3,
        grep: "(to+k?\\s*)+ long",
      }),
    );
    expect(entry(nested, "10.5.0.2")).toMatchObject({ lines: e.lines, matched: 200, scanned: 400 });
  });

  test("a grep that outlasts the deadline returns what it scanned, marked incomplete", async () => {
    const node = h.sim.cluster.nodes[0];
    node.extraLogs = new Map([["bigapp", bigLog(200 << 20)]]);
    const g = await spawnHarness({ simInstance: h.sim, env: { TALOS_MCP_TIMEOUT_MS: "1000" } });
    try {
      const r = ok(
        await g.call("talos_logs", { service_name: "bigapp", nodes: ["10.5.0.2"], grep: "batch", tail_lines: 2 }),
      );
      const e = entry(r, "10.5.0.2");
      expect(e.incomplete).toBe(true);
      expect(e.lines).toHaveLength(2);
      expect(e.scanned).toBeGreaterThan(0);
      expect(e.scanned).toBeLessThan(bigLog(200 << 20).count);
      expect(r.truncated.ask).toContain("TALOS_MCP_TIMEOUT_MS");
    } finally {
      node.extraLogs = undefined;
      await g.close();
    }
  });

  test("a Kubernetes container log with namespace=k8s.io (CRI lines)", async () => {
    const calls = since();
    const id = "kube-system/kube-apiserver-sim-cp-1:kube-apiserver";
    const r = ok(
      await h.call("talos_logs", { service_name: id, namespace: "k8s.io", nodes: ["10.5.0.2"], tail_lines: 2 }),
    );
    for (const l of entry(r, "10.5.0.2").lines) expect(l).toMatch(/^\S+Z (stdout|stderr) F /);
    expect(calls("Logs")[0].request).toMatchObject({ namespace: "k8s.io", driver: "CRI", id });
  });

  test("an unknown service names the logs the node has", async () => {
    const r = failed(await h.call("talos_logs", { service_name: "kubelett", nodes: ["10.5.0.2"] }));
    const e = entry(r, "10.5.0.2");
    expect(e.code).toBe("NOT_FOUND");
    expect(e.error).toContain("kubelet, machined");
  });

  test("tail_lines 0 (nothing, to Talos) and bad regexes are refused before any RPC", async () => {
    const calls = since();
    const zero = await h.call("talos_logs", { service_name: "kubelet", tail_lines: 0 });
    expect(zero.isError).toBe(true);
    expect(text(zero)).toContain("tail_lines");
    const bad = await h.call("talos_logs", { service_name: "kubelet", grep: "(" });
    expect(text(bad)).toContain("not a valid");
    const backref = await h.call("talos_logs", { service_name: "kubelet", grep: "(err)\\1" });
    expect(text(backref)).toContain("backreferences (\\1, \\k<name>), which RE2");
    expect(calls("Logs")).toHaveLength(0);
  });
});

describe("talos_dmesg", () => {
  test("kernel records in Talos' format, grepped", async () => {
    // A healthy node's kernel log has no I/O error: the failing disk is planted.
    const undo = ["10.5.0.2", "10.5.0.5"].map((n) => plantFault(h.sim.cluster, n, "disk-io-error"));
    try {
      const r = ok(await h.call("talos_dmesg", { nodes: ["10.5.0.2", "10.5.0.5"], tail_lines: 5, grep: "I/O error" }));
      for (const n of ["10.5.0.2", "10.5.0.5"]) {
        const lines = entry(r, n).lines;
        expect(lines).toHaveLength(5);
        for (const l of lines) expect(l).toMatch(/^kern: {5}err: \[\S+Z\]: blk_update_request: I\/O error/);
      }
    } finally {
      for (const u of undo) u();
    }
  });
});

describe("talos_events", () => {
  test(
    "stops after the replay of an endless stream, one line per event, no empty hello",
    async () => {
      const calls = since();
      const r = ok(
        await withDown(1, () => h.call("talos_events", { nodes: ["10.5.0.2", "10.5.0.3", "10.5.0.5"], tail_count: 3 })),
      );
      expect(entry(r, "10.5.0.3").code).toBe("UNAVAILABLE");
      expect(entry(r, "10.5.0.5").events).toHaveLength(3);
      const ev = entry(r, "10.5.0.2").events;
      expect(ev).toHaveLength(3);
      expect(ev[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /);
      expect(ev.at(-1)).toContain("config validation error");
      expect(ev.join("\n")).toContain("machine running, ready");
      expect(calls("Events").map((c) => (c.request as any).tail_events)).toEqual([3, 3, 3]);
    },
    // The stream never ends and the deadline is 15s: returning well before it proves we cancel it ourselves.
    8_000,
  );

  test("since maps to tail_seconds (never together with tail_events) and shows recent events", async () => {
    h.sim.cluster.nodes[3].services.find((s) => s.id === "kubelet")!.healthy = false;
    h.sim.cluster.nodes[3].services.find((s) => s.id === "kubelet")!.message = "connection refused";
    try {
      const calls = since();
      const r = ok(await h.call("talos_events", { nodes: ["10.5.0.5"], since: "5m" }));
      expect(entry(r, "10.5.0.5").events.join("\n")).toContain(
        "service kubelet running, unhealthy: Health check failed",
      );
      expect(calls("Events")[0].request).toMatchObject({ tail_seconds: 300, tail_events: 0 });
    } finally {
      h.sim.cluster.nodes[3].services.find((s) => s.id === "kubelet")!.healthy = true;
    }
  }, 8_000);
});

describe("talos_etcd", () => {
  test("members with exact uint64 ids as hex strings; workers say etcd is not there", async () => {
    const r = ok(await h.call("talos_etcd", { nodes: ["10.5.0.2", "10.5.0.5"] }));
    const members = entry(r, "10.5.0.2").members;
    expect(members.map((m: any) => m.hostname)).toEqual(["sim-cp-1", "sim-cp-2", "sim-cp-3"]);
    const want = h.sim.cluster.nodes.slice(0, 3).map((n) => BigInt(n.etcdMemberId).toString(16).padStart(16, "0"));
    expect(members.map((m: any) => m.id)).toEqual(want);
    expect(entry(r, "10.5.0.5").error).toContain("not available on worker");
  });

  test("status per member names the leader; alarms are listed", async () => {
    const r = ok(await h.call("talos_etcd", { subcommand: "status", nodes: ["10.5.0.2", "10.5.0.3"] }));
    const leader = BigInt(h.sim.cluster.nodes[0].etcdMemberId).toString(16).padStart(16, "0");
    expect(entry(r, "10.5.0.2").status).toMatchObject({ leader, is_leader: true, db_size: 28672000, errors: [] });
    expect(entry(r, "10.5.0.3").status.is_leader).toBe(false);
    const a = ok(await h.call("talos_etcd", { subcommand: "alarms", nodes: ["10.5.0.2"] }));
    expect(entry(a, "10.5.0.2").alarms).toEqual([]);
  });
});

describe("talos_health", () => {
  test("one control-plane node runs it, with a wait_timeout, and progress is reported", async () => {
    const calls = since();
    const progress: string[] = [];
    const r = await h.client.callTool(
      { name: "talos_health", arguments: { wait_timeout: "5s" } },
      CallToolResultSchema,
      { onprogress: (p) => void progress.push(String(p.message)) },
    );
    const v = ok(r as any);
    expect(v).toMatchObject({ node: "10.5.0.2", healthy: true });
    expect(v.discovered).toEqual(ALL);
    expect(v.checks.find((c: any) => c.check === "etcd to be healthy").result).toBe("OK");
    expect(v.checks.every((c: any) => c.result === "OK")).toBe(true);
    const hc = calls("HealthCheck");
    expect(hc).toHaveLength(1);
    expect(hc[0].node).toEqual(["10.5.0.2"]);
    expect((hc[0].request as any).wait_timeout).toEqual({ seconds: "5", nanos: 0 });
    // The MCP SDK client handles a response before notifications read in the same chunk, so the last
    // few may be dropped on its side; the early ones arrive.
    expect(progress).toContain("waiting for etcd to be healthy: OK");
    expect(progress).toContain("waiting for kubelet to be healthy: OK");
  });

  test("an unhealthy kubelet ends in a verdict naming the failing check", async () => {
    const kubelet = h.sim.cluster.nodes[3].services.find((s) => s.id === "kubelet")!;
    kubelet.healthy = false;
    try {
      const v = ok(await h.call("talos_health", { wait_timeout: "1s" }));
      expect(v.healthy).toBe(false);
      expect(v.checks.find((c: any) => c.check === "kubelet to be healthy").result).toContain("10.5.0.5");
      expect(v.error).toContain("kubelet");
    } finally {
      kubelet.healthy = true;
    }
  });

  test("a control-plane node down fails the etcd check, from another control plane", async () => {
    const v = ok(await withDown(2, () => h.call("talos_health", { wait_timeout: "1s" })));
    expect(v.healthy).toBe(false);
    expect(v.checks[0]).toEqual({ check: "etcd to be healthy", result: expect.stringContaining("10.5.0.4") });
    expect(v.checks).toHaveLength(1); // the check stops at the first failure, as Talos' does
  });

  test("a reader certificate fails the Kubernetes checks and is told to use an admin context", async () => {
    const v = ok(await h.call("talos_health", { wait_timeout: "1s", context: "sim-reader" }));
    expect(v.healthy).toBe(false);
    expect(v.hint).toContain("os:admin");
  });

  test("a worker is refused with what to do", async () => {
    const r = await h.call("talos_health", { wait_timeout: "1s", node: "10.5.0.5" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("Pass node= a control-plane node");
  });

  test("wait_timeout must be a duration", async () => {
    const calls = since();
    const r = await h.call("talos_health", { wait_timeout: "soon" });
    expect(text(r)).toContain("wait_timeout is a duration");
    expect(calls("HealthCheck")).toHaveLength(0);
  });
});

describe("TALOS_MCP_SHOW_SECRETS=true", () => {
  test("turns masking off (tool output shows the token) and warns at start-up", async () => {
    const g = await spawnHarness({ simInstance: h.sim, env: { TALOS_MCP_SHOW_SECRETS: "true" } });
    try {
      const r = ok(
        await g.call("talos_read_file", { path: "/etc/kubernetes/bootstrap-kubeconfig", nodes: ["10.5.0.2"] }),
      );
      expect(entry(r, "10.5.0.2").content).toContain("token: abcdef.0123456789abcdef");
      const l = ok(await g.call("talos_logs", { service_name: "kubelet", tail_lines: 4, nodes: ["10.5.0.2"] }));
      expect(entry(l, "10.5.0.2").lines.join("\n")).toContain("abcdef.0123456789abcdef");
      expect(g.stderr()).toMatch(/SHOW_SECRETS/);
    } finally {
      await g.close();
    }
  });
});
