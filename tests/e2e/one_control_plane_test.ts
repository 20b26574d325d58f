/**
 * @module A cluster with one control plane (the usual first cluster): the quorum loss a reboot, an
 * upgrade or a rebooting config change causes there cannot be avoided, so confirmed calls go ahead and
 * say what they cost; a change applied without a reboot is never refused; no gate waits for what cannot
 * come. On three control planes, loss that ordering or waiting would avoid is still refused at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ElicitRequest } from "@modelcontextprotocol/sdk/types.js";
import { callsSince, entry, type Harness, ok, spawnHarness } from "../harness.ts";

const CP = "10.5.0.2";
const ENV = { TALOS_MCP_POLL_INTERVAL_MS: "10" };
const OUTAGE = 'etcd and the Kubernetes API of cluster "sim" are unavailable until sim-cp-1 (10.5.0.2) is back';

let h: Harness;
const asked: string[] = [];

beforeAll(async () => {
  h = await spawnHarness({
    sim: { controlPlanes: 1, workers: 1 },
    env: ENV,
    // A client that can ask its user: the question must say what the call costs.
    elicit: (req: ElicitRequest) => {
      asked.push(String(req.params.message));
      return { action: "accept" };
    },
  });
});
afterAll(() => h?.close());

const since = () => callsSince(h.sim);
const cp = () => h.sim.cluster.find(CP)!;

/** Calls a tool asking for progress; returns the result and the notifications' values and totals. */
async function withProgress(name: string, args: Record<string, unknown>) {
  const seen: Array<{ progress: number; total?: number }> = [];
  const r = await h.client.callTool({ name, arguments: args }, undefined, {
    onprogress: (p) => seen.push({ progress: p.progress, total: p.total }),
  });
  return { r: ok(r as never), seen };
}

/** The MCP spec: each progress value is larger than the one before; none passes its total. */
function expectMonotonic(seen: Array<{ progress: number; total?: number }>) {
  expect(seen.length).toBeGreaterThan(1);
  for (let i = 1; i < seen.length; i++) expect(seen[i].progress).toBeGreaterThan(seen[i - 1].progress);
  for (const p of seen) expect(p.progress).toBeLessThanOrEqual(p.total ?? Infinity);
}

describe("one control plane", () => {
  test("reboot with wait goes ahead, comes back with a new boot id, and states the outage", async () => {
    const bootBefore = cp().bootId;
    const calls = since();
    asked.length = 0;
    const { r, seen } = await withProgress("talos_reboot", { nodes: [CP], confirm: true, wait: true });
    expectMonotonic(seen);
    expect(r.outage).toStartWith(OUTAGE);
    expect(entry(r, CP)).toMatchObject({ rebooted: true, back: true, boot_id: cp().bootId });
    expect(cp().bootId).not.toBe(bootBefore);
    expect(calls("Reboot")).toHaveLength(1);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain(`Outage: ${OUTAGE}`);
  });

  test("an upgrade goes ahead without waiting on etcd, and the node comes back on the new version", async () => {
    const calls = since();
    const { r, seen } = await withProgress("talos_upgrade", {
      nodes: [CP],
      image: "ghcr.io/siderolabs/installer:v1.13.10",
      confirm: true,
    });
    expectMonotonic(seen);
    expect(entry(r, CP)).toMatchObject({ from: "v1.13.9", to: "v1.13.10", rebooted: true });
    expect(r.outage).toStartWith(OUTAGE);
    expect(cp().version).toBe("v1.13.10");
    // The guard, the tool's look at which targets are members, the gate before the node: one each, no
    // polling for a quorum that cannot come.
    expect(calls("EtcdMemberList")).toHaveLength(3);
    expect(calls("Upgrade")).toHaveLength(1);
  });

  test("a patch applied without a reboot (mode auto) is not refused and costs no outage", async () => {
    const calls = since();
    const r = ok(
      await h.call("talos_patch_config", {
        nodes: [CP],
        patch: 'machine:\n  sysctls:\n    net.core.somaxconn: "65535"\n',
        dry_run: false,
        confirm: true,
      }),
    );
    expect(entry(r, CP)).toMatchObject({ changed: true, mode: "NO_REBOOT" });
    expect(r.outage).toBeUndefined();
    // The node was asked in a dry run whether mode auto would reboot; only then applied.
    const applies = calls("ApplyConfiguration").map((c) => c.request as { mode: string; dry_run: boolean });
    expect(applies.map((a) => [a.mode, a.dry_run])).toEqual([["AUTO", true], ["AUTO", false]]);
    expect(calls("EtcdMemberList")).toHaveLength(0); // nothing goes down: no quorum question at all
    expect(cp().machineConfig).toContain("somaxconn");
  });

  test("a patch that needs a reboot in mode auto goes ahead with the outage stated", async () => {
    const calls = since();
    const r = ok(
      await h.call("talos_patch_config", {
        nodes: [CP],
        patch: "machine:\n  install:\n    wipe: true\n",
        dry_run: false,
        confirm: true,
      }),
    );
    expect(entry(r, CP)).toMatchObject({ changed: true, mode: "REBOOT" });
    expect(r.outage).toStartWith(OUTAGE);
    expect(calls("EtcdMemberList").length).toBeGreaterThan(0);
  });
});

describe("three control planes", () => {
  let h3: Harness;
  beforeAll(async () => {
    h3 = await spawnHarness({ sim: { controlPlanes: 3, workers: 1 }, env: ENV });
  });
  afterAll(() => h3?.close());

  test("with one unhealthy, a reboot of a healthy one is still refused at once, and nothing is sent", async () => {
    h3.sim.cluster.setService("10.5.0.4", "etcd", { state: "Failed", healthy: false });
    try {
      const mark = h3.sim.calls.length;
      const r = await h3.call("talos_reboot", { nodes: ["10.5.0.2"], confirm: true });
      expect(r.isError).toBe(true);
      expect(h3.sim.calls.slice(mark).filter((c) => c.method.endsWith("/Reboot"))).toHaveLength(0);
    } finally {
      h3.sim.cluster.setService("10.5.0.4", "etcd", { state: "Running", healthy: true });
    }
  });

  test("an upgrade stops at once when a member it did not take down goes unhealthy (waiting cannot help)", async () => {
    // Long polls: a gate that waited would show up as more etcd reads than the four expected below.
    const slow = await spawnHarness({
      simInstance: h3.sim,
      env: { TALOS_MCP_POLL_INTERVAL_MS: "20000", TALOS_MCP_WAIT_TIMEOUT_MS: "30000" },
    });
    // Nodes boot at once here (no refused polls), so the long poll interval only shows in a gate that waits.
    h3.sim.cluster.rebootCalls = 0;
    // cp-3 fails when cp-1 comes back from its upgrade: not this call's doing, and not coming back by itself.
    const stop = h3.sim.cluster.onChange((n) => {
      if (n.ip === "10.5.0.2" && n.version === "v1.13.10") {
        h3.sim.cluster.nodes[2].services.find((s) => s.id === "etcd")!.state = "Failed";
      }
    });
    try {
      const mark = h3.sim.calls.length;
      const r = ok(
        await slow.call("talos_upgrade", {
          nodes: ["10.5.0.2", "10.5.0.3"],
          image: "ghcr.io/siderolabs/installer:v1.13.10",
          confirm: true,
        }),
      );
      expect(entry(r, "10.5.0.2")).toMatchObject({ to: "v1.13.10", rebooted: true });
      expect(entry(r, "10.5.0.3").code).toBe("FAILED_PRECONDITION");
      expect(entry(r, "10.5.0.3").error).toContain("sim-cp-3");
      const lists = h3.sim.calls.slice(mark).filter((c) => c.method.endsWith("/EtcdMemberList"));
      expect(lists).toHaveLength(4); // the guard, the tool's member look, the gate before each: no poll
    } finally {
      stop();
      h3.sim.cluster.rebootCalls = 2;
      h3.sim.cluster.nodes[2].services.find((s) => s.id === "etcd")!.state = "Running";
      await slow.close();
    }
  });
});
