/**
 * @module talos_etcd_maintenance through the binary against the simulator: defragmentation runs member by
 * member with a status check in between and stops at the first bad one; alarms are disarmed; leadership
 * moves; a dead member is removed by id while a live one is refused before any change; leave is held to
 * the quorum guard; the admin-only actions are refused for an operator with nothing sent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ElicitRequest } from "@modelcontextprotocol/sdk/types.js";
import { plantFault } from "../../lib/sim/scenarios.ts";
import { callsSince, entry, failed, type Harness, ok, spawnHarness, text, withNodeDown } from "../harness.ts";

const [CP1, CP2, CP3] = ["10.5.0.2", "10.5.0.3", "10.5.0.4"];
const hex = (id: string) => BigInt(id).toString(16).padStart(16, "0");

let h: Harness;
let asked: ElicitRequest[] = [];
beforeAll(async () => {
  h = await spawnHarness({
    sim: { controlPlanes: 3, workers: 1 },
    elicit: (req) => {
      asked.push(req);
      return { action: "accept", content: {} };
    },
  });
});
afterAll(() => h?.close());

const node = (ip: string) => h.sim.cluster.find(ip)!;
const maintain = (args: Record<string, unknown>) => h.call("talos_etcd_maintenance", { confirm: true, ...args });
const question = () => String(asked.at(-1)?.params.message ?? "");

describe("defrag", () => {
  test("one member at a time, each status-checked before the next; the file shrinks to what is in use", async () => {
    node(CP1).planted = { etcd: { dbSize: 900_000_000, dbInUse: 300_000_000 } };
    asked = [];
    const calls = callsSince(h.sim);
    const r = ok(await maintain({ nodes: [CP1, CP2, CP3], action: "defrag" }));
    expect(entry(r, CP1)).toMatchObject({ done: true, db_size: 300_000_000, db_size_in_use: 300_000_000 });
    expect(entry(r, CP2)).toMatchObject({ done: true, db_size: 14_336_000, db_size_in_use: 14_336_000 });
    expect(entry(r, CP3).note).toContain("the member was blocked while it ran");
    // Strictly alternating: Defragment(n), Status(n), then the next node.
    const order = h.sim.calls.filter((c) => /EtcdDefragment|EtcdStatus/.test(c.method)).slice(-6)
      .map((c) => `${c.method.split("/").pop()} ${c.node[0]}`);
    expect(order).toEqual([CP1, CP2, CP3].flatMap((n) => [`EtcdDefragment ${n}`, `EtcdStatus ${n}`]));
    expect(calls("EtcdDefragment")).toHaveLength(3);
    expect(question()).toContain("stops answering reads and writes while it is defragmented");
  });

  test("a member whose status fails afterwards stops the round: later members are not touched", async () => {
    node(CP2).faults.failMethods = ["EtcdStatus"];
    try {
      const calls = callsSince(h.sim);
      const r = await maintain({ nodes: [CP1, CP2, CP3], action: "defrag" });
      const v = r.structuredContent as { nodes: Array<{ node: string; code?: string; done?: boolean }> };
      expect(r.isError).toBeFalsy(); // CP1 was defragmented
      expect(entry(v, CP1).done).toBe(true);
      expect(entry(v, CP2).code).toBe("UNAVAILABLE");
      expect(entry(v, CP3).code).toBe("SKIPPED");
      expect(calls("EtcdDefragment").map((c) => c.node[0])).toEqual([CP1, CP2]);
    } finally {
      node(CP2).faults.failMethods = undefined;
    }
  });

  test("a raised NOSPACE alarm does not stop it (defragmenting is how space comes back), and is said", async () => {
    const unplant = plantFault(h.sim.cluster, CP1, "etcd-alarm-nospace");
    try {
      const r = ok(await maintain({ nodes: [CP1, CP2], action: "defrag" }));
      expect(entry(r, CP2).note).toContain("alarms still raised until alarm_disarm");
      expect(entry(r, CP2).note).toContain("alarm:NOSPACE");
    } finally {
      unplant();
    }
  });
});

describe("alarm_disarm", () => {
  test("clears the raised alarms and lists them with the member's hex id", async () => {
    plantFault(h.sim.cluster, CP3, "etcd-alarm-nospace");
    const r = ok(await maintain({ nodes: [CP1], action: "alarm_disarm" }));
    expect(entry(r, CP1).cleared_alarms).toEqual([{ member_id: hex(node(CP3).etcdMemberId), alarm: "NOSPACE" }]);
    expect(ok(await h.call("talos_etcd", { nodes: [CP1], subcommand: "alarms" })).nodes[0].alarms).toEqual([]);
    expect(question()).toContain("disarm etcd's alarms");
  });
});

describe("forfeit_leadership", () => {
  test("the leader hands over and names the new leader; a follower moves nothing", async () => {
    const leaderOf = async () =>
      ok(await h.call("talos_etcd", { nodes: [CP1], subcommand: "status" })).nodes[0].status.leader;
    expect(await leaderOf()).toBe(hex(node(CP1).etcdMemberId));
    const r = ok(await maintain({ nodes: [CP1], action: "forfeit_leadership" }));
    expect(entry(r, CP1)).toMatchObject({ done: true, new_leader: "sim-cp-2" });
    expect(await leaderOf()).toBe(hex(node(CP2).etcdMemberId));
    const again = ok(await maintain({ nodes: [CP1], action: "forfeit_leadership" }));
    expect(entry(again, CP1)).toMatchObject({ done: true, note: "not the leader: nothing moved" });
  });
});

describe("remove_member", () => {
  test("a healthy, serving member is refused before any change or question", async () => {
    asked = [];
    const calls = callsSince(h.sim);
    const r = await maintain({ nodes: [CP1], action: "remove_member", member_id: hex(node(CP3).etcdMemberId) });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`member ${hex(node(CP3).etcdMemberId)} (sim-cp-3) is healthy and serving`);
    expect(calls("EtcdRemoveMemberByID")).toEqual([]);
    expect(asked).toEqual([]);
  });

  test("an unknown id is refused, naming the members", async () => {
    const calls = callsSince(h.sim);
    const r = await maintain({ nodes: [CP1], action: "remove_member", member_id: "00000000000000ff" });
    expect(text(r)).toContain("no etcd member 00000000000000ff; the members are");
    expect(text(r)).toContain("(sim-cp-2)");
    expect(calls("EtcdRemoveMemberByID")).toEqual([]);
  });

  test("bad input says what is wanted", async () => {
    expect(text(await maintain({ nodes: [CP1], action: "remove_member" }))).toContain("remove_member needs member_id");
    expect(text(await maintain({ nodes: [CP1, CP2], action: "leave" }))).toContain("one node per call");
    expect(text(await maintain({ nodes: [CP1], action: "remove_member", member_id: "xyz" }))).toContain("hex");
  });
});

describe("roles", () => {
  test("an operator may defragment but not leave: refused by role, nothing sent", async () => {
    ok(await maintain({ context: "sim-operator", nodes: [CP1], action: "defrag" }));
    const calls = callsSince(h.sim);
    const r = await maintain({ context: "sim-operator", nodes: [CP1], action: "leave" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("os:admin");
    expect(calls("EtcdLeaveCluster")).toEqual([]);
  });
});

describe("membership changes (last: they shrink the cluster)", () => {
  test("leave is held to the quorum guard: with another member down it is refused, nothing sent", async () => {
    node(CP3).faults.down = true;
    try {
      const calls = callsSince(h.sim);
      const r = await maintain({ nodes: [CP1], action: "leave" });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("sim-cp-3");
      expect(calls("EtcdLeaveCluster")).toEqual([]);
    } finally {
      node(CP3).faults.down = false;
    }
  });

  test("a dead member is removed by id through a healthy node", async () => {
    const dead = node(CP3);
    await withNodeDown(h.sim, 2, async () => {
      const r = ok(await maintain({ nodes: [CP1], action: "remove_member", member_id: hex(dead.etcdMemberId) }));
      expect(entry(r, CP1)).toMatchObject({ done: true, removed: hex(dead.etcdMemberId) });
      expect(question()).toContain(`remove etcd member ${hex(dead.etcdMemberId)}`);
      const members = ok(await h.call("talos_etcd", { nodes: [CP1] })).nodes[0].members;
      expect(members.map((m: { hostname: string }) => m.hostname)).toEqual(["sim-cp-1", "sim-cp-2"]);
    });
  });

  test("leave takes the node's own member out; its consent text says it is for good", async () => {
    const r = ok(await maintain({ nodes: [CP2], action: "leave" }));
    expect(entry(r, CP2).done).toBe(true);
    expect(question()).toContain("remove the node's member from etcd for good");
    expect(question()).toContain("etcd and the Kubernetes API"); // a 2-member etcd: the outage is said
    const members = ok(await h.call("talos_etcd", { nodes: [CP1] })).nodes[0].members;
    expect(members.map((m: { hostname: string }) => m.hostname)).toEqual(["sim-cp-1"]);
    const down = failed(await h.call("talos_etcd", { nodes: [CP2], subcommand: "status" }));
    expect(down.nodes[0].error).toContain("left the etcd cluster");
  });
});

describe("safety profile operator", () => {
  test("may defrag, but not change membership: leave is refused for the profile, nothing sent", async () => {
    const op = await spawnHarness({ simInstance: h.sim, env: { TALOS_MCP_PROFILE: "operator" } });
    try {
      const calls = callsSince(h.sim);
      const r = await op.call("talos_etcd_maintenance", { nodes: [CP1], action: "leave", confirm: true });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("needs profile admin");
      expect(calls("EtcdLeaveCluster")).toHaveLength(0);
      expect(calls("EtcdMemberList")).toHaveLength(0); // refused before the quorum guard's reads
      ok(await op.call("talos_etcd_maintenance", { nodes: [CP1], action: "alarm_disarm", confirm: true }));
      expect(calls("EtcdAlarmDisarm")).toHaveLength(1);
    } finally {
      await op.close();
    }
  });
});
