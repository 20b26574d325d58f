/**
 * @module The mutating node tools through the compiled binary: exactly which RPCs
 * each allowed call sends, with which fields, and what the nodes look like
 * afterwards (the simulator reboots deterministically: a rebooting node
 * refuses `rebootCalls` calls, then is back with a new boot id).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RecordedCall } from "../../lib/sim/server.ts";
import { entry, failed, type Harness, ok, spawnHarness, structured } from "../harness.ts";

const ENV = { TALOS_MCP_POLL_INTERVAL_MS: "10" };
const CONTAINERD = { driver: "CRI", namespace: "NS_SYSTEM" };

let h: Harness;

beforeAll(async () => {
  // Three 1.13 control planes, a 1.13 worker and a 1.12 worker.
  h = await spawnHarness({
    sim: { controlPlanes: 3, workers: 2, version: ["v1.13.9", "v1.13.9", "v1.13.9", "v1.13.9", "v1.12.4"] },
    env: ENV,
  });
});
afterAll(() => h?.close());

const short = (c: RecordedCall) => c.method.replace(/^\/[^/]*\./, "");
/** RPCs sent while `fn` ran, without the best-effort Hostname lookups. */
async function during(fn: () => Promise<unknown>): Promise<RecordedCall[]> {
  const mark = h.sim.calls.length;
  await fn();
  return h.sim.calls.slice(mark).filter((c) => !c.method.endsWith("/Hostname"));
}
const node = (ip: string) => h.sim.cluster.find(ip)!;
/**
 * The etcd quorum guard's reads before a reboot of a worker: the worker says
 * it is no member (twice), a control plane lists the members, each member's status.
 */
const QUORUM_READS = [
  "MachineService/EtcdStatus",
  "MachineService/EtcdMemberList",
  "MachineService/EtcdMemberList",
  "MachineService/EtcdStatus",
  "MachineService/EtcdStatus",
  "MachineService/EtcdStatus",
];

describe("talos_service_action", () => {
  test("restarts kubelet: one ServiceRestart per node with the service id", async () => {
    let r: any;
    const calls = await during(async () => {
      r = ok(
        await h.call("talos_service_action", {
          nodes: ["10.5.0.5", "10.5.0.6"],
          service_name: "kubelet",
          action: "restart",
          confirm: true,
        }),
      );
    });
    const byNode = calls.map((c) => [short(c), c.node[0], c.request] as const)
      .sort((a, b) => a[1].localeCompare(b[1]));
    expect(byNode).toEqual([
      ["MachineService/ServiceRestart", "10.5.0.5", { id: "kubelet" }],
      ["MachineService/ServiceRestart", "10.5.0.6", { id: "kubelet" }],
    ]);
    expect(entry(r, "10.5.0.6").response).toBe('Service "kubelet" restarted');
  });

  test("stops an extension service", async () => {
    node("10.5.0.5").services.push({ id: "ext-iscsid", state: "Running", healthy: true, message: "" });
    const calls = await during(async () => {
      ok(
        await h.call("talos_service_action", {
          nodes: ["10.5.0.5"],
          service_name: "ext-iscsid",
          action: "stop",
          confirm: true,
        }),
      );
    });
    expect(calls.map(short)).toEqual(["MachineService/ServiceStop"]);
    expect(node("10.5.0.5").services.find((s) => s.id === "ext-iscsid")!.state).toBe("Finished");
  });
});

describe("talos_reboot", () => {
  test("sends the mode asked for, and returns at once without wait", async () => {
    const calls = await during(async () => {
      const r = ok(await h.call("talos_reboot", { nodes: ["10.5.0.5"], mode: "powercycle", confirm: true }));
      expect(entry(r, "10.5.0.5")).toMatchObject({ rebooted: true });
      expect(entry(r, "10.5.0.5").back).toBeUndefined();
    });
    expect(calls.map(short)).toEqual([...QUORUM_READS, "MachineService/Reboot"]);
    expect(calls.at(-1)!.request).toEqual({ mode: "POWERCYCLE" });
    node("10.5.0.5").rebootingFor = 0;
  });

  test("wait=true polls until the node answers with a new boot id, with progress", async () => {
    const old = node("10.5.0.6").bootId;
    const progress: number[] = [];
    let r: any;
    const calls = await during(async () => {
      r = ok(
        await h.client.callTool(
          { name: "talos_reboot", arguments: { nodes: ["10.5.0.6"], wait: true, confirm: true } },
          undefined,
          { onprogress: (p) => progress.push(p.progress) },
        ) as any,
      );
    });
    const e = entry(r, "10.5.0.6");
    expect(e).toMatchObject({ rebooted: true, back: true });
    expect(e.boot_id).toBe(node("10.5.0.6").bootId);
    expect(e.boot_id).not.toBe(old);
    expect(calls.map(short)).toEqual([
      ...QUORUM_READS,
      "MachineService/Read", // boot id before
      "MachineService/Reboot",
      "MachineService/Read", // refused: rebooting
      "MachineService/Read", // refused: rebooting
      "MachineService/Read", // back, new id
    ]);
    expect(calls.find((c) => c.method.endsWith("/Reboot"))!.request).toEqual({ mode: "DEFAULT" });
    expect(e.polls).toBe(3);
    expect(progress.length).toBeGreaterThan(0);
  });

  test("with an operator certificate (no Read) wait still sees the node go and come back", async () => {
    const r = ok(
      await h.call("talos_reboot", { context: "sim-operator", nodes: ["10.5.0.5"], wait: true, confirm: true }),
    );
    expect(entry(r, "10.5.0.5")).toMatchObject({ rebooted: true, back: true });
    expect(entry(r, "10.5.0.5").boot_id).toBeUndefined();
  });
});

describe("talos_upgrade", () => {
  test("a 1.12 node gets the legacy MachineService.Upgrade with preserve=true by default", async () => {
    let r: any;
    const calls = await during(async () => {
      r = ok(
        await h.call("talos_upgrade", {
          nodes: ["10.5.0.6"],
          image: "ghcr.io/siderolabs/installer:v1.13.9",
          confirm: true,
        }),
      );
    });
    const mutating = calls.filter((c) => /\/(Upgrade|Pull|Reboot)$/.test(c.method));
    expect(mutating.map((c) => [c.method, c.request])).toEqual([
      ["/machine.MachineService/Upgrade", {
        image: "ghcr.io/siderolabs/installer:v1.13.9",
        preserve: true,
        stage: false,
        force: false,
        reboot_mode: "DEFAULT",
      }],
    ]);
    expect(entry(r, "10.5.0.6")).toMatchObject({ from: "v1.12.4", to: "v1.13.9", flow: "legacy", rebooted: true });
    expect(node("10.5.0.6").version).toBe("v1.13.9");
  });

  test("a 1.13 node gets ImageService.Pull, LifecycleService.Upgrade, then Reboot", async () => {
    const image = "ghcr.io/siderolabs/installer:v1.14.1";
    let r: any;
    const calls = await during(async () => {
      r = ok(await h.call("talos_upgrade", { nodes: ["10.5.0.5"], image, reboot_mode: "powercycle", confirm: true }));
    });
    const mutating = calls.filter((c) => /\/(Upgrade|Pull|Reboot)$/.test(c.method));
    expect(mutating.map((c) => [c.method, c.node, c.request])).toEqual([
      ["/machine.ImageService/Pull", ["10.5.0.5"], { containerd: CONTAINERD, image_ref: image }],
      ["/machine.LifecycleService/Upgrade", ["10.5.0.5"], { containerd: CONTAINERD, source: { image_name: image } }],
      ["/machine.MachineService/Reboot", ["10.5.0.5"], { mode: "POWERCYCLE" }],
    ]);
    expect(entry(r, "10.5.0.5")).toMatchObject({ from: "v1.13.9", to: "v1.14.1", flow: "lifecycle", rebooted: true });
    expect(entry(r, "10.5.0.5").installer_output).toContain("writing the inactive boot slot");
  });

  test("a non-zero installer exit code fails the node and sends no Reboot", async () => {
    h.sim.cluster.upgradeExitCode = 3;
    try {
      let r: any;
      const calls = await during(async () => {
        r = failed(
          await h.call("talos_upgrade", {
            nodes: ["10.5.0.5"],
            image: "ghcr.io/siderolabs/installer:v1.14.2",
            confirm: true,
          }),
        );
      });
      expect(calls.some((c) => c.method.endsWith("/Reboot"))).toBe(false);
      expect(entry(r, "10.5.0.5").code).toBe("UPGRADE_FAILED");
      expect(entry(r, "10.5.0.5").error).toContain("exited with code 3");
      expect(node("10.5.0.5").version).toBe("v1.14.1");
    } finally {
      h.sim.cluster.upgradeExitCode = 0;
    }
  });

  test("a node that comes back on its old version failed: the new image did not boot", async () => {
    // The node boots the new slot, fails and falls back to the previous one, as Talos does.
    const stop = h.sim.cluster.onChange((n) => {
      if (n.ip === "10.5.0.5" && n.version === "v1.14.2") n.version = n.previousVersion!;
    });
    try {
      const r = failed(
        await h.call("talos_upgrade", {
          nodes: ["10.5.0.5"],
          image: "ghcr.io/siderolabs/installer:v1.14.2",
          confirm: true,
        }),
      );
      expect(entry(r, "10.5.0.5").code).toBe("UPGRADE_FAILED");
      expect(entry(r, "10.5.0.5").error).toContain("came back on v1.14.1, not v1.14.2");
    } finally {
      stop();
    }
  });

  test("stage=true on 1.13+ installs without rebooting", async () => {
    const calls = await during(async () => {
      const r = ok(
        await h.call("talos_upgrade", {
          nodes: ["10.5.0.5"],
          image: "ghcr.io/siderolabs/installer:v1.14.2",
          stage: true,
          confirm: true,
        }),
      );
      expect(entry(r, "10.5.0.5")).toMatchObject({ rebooted: false, to: "v1.14.1" });
    });
    expect(calls.some((c) => c.method.endsWith("/Reboot"))).toBe(false);
    expect(node("10.5.0.5").pendingVersion).toBe("v1.14.2");
  });

  test("control planes go strictly one at a time, each back before the next starts", async () => {
    const cps = ["10.5.0.2", "10.5.0.3", "10.5.0.4"];
    let r: any;
    const calls = await during(async () => {
      r = ok(
        await h.call("talos_upgrade", { nodes: cps, image: "ghcr.io/siderolabs/installer:v1.13.10", confirm: true }),
      );
    });
    for (const ip of cps) expect(entry(r, ip)).toMatchObject({ from: "v1.13.9", to: "v1.13.10", rebooted: true });
    const mutating = calls.filter((c) => /\/(Upgrade|Pull|Reboot)$/.test(c.method));
    expect(mutating.map((c) => `${c.node[0]} ${c.method.split("/").pop()}`)).toEqual(
      cps.flatMap((ip) => [`${ip} Pull`, `${ip} Upgrade`, `${ip} Reboot`]),
    );
    // Between one control plane's Reboot and the next one's Pull: it answered again, and etcd was checked.
    for (const [i, ip] of cps.slice(0, -1).entries()) {
      const from = calls.indexOf(mutating[i * 3 + 2]);
      const to = calls.indexOf(mutating[(i + 1) * 3]);
      const between = calls.slice(from + 1, to);
      expect(between.some((c) => c.method.endsWith("/Read") && c.node[0] === ip)).toBe(true);
      expect(between.some((c) => c.method.endsWith("/EtcdStatus"))).toBe(true);
    }
  });
});

describe("talos_rollback", () => {
  test("sends Rollback; the node boots its previous version", async () => {
    expect(node("10.5.0.6").previousVersion).toBe("v1.12.4");
    const calls = await during(async () => {
      ok(await h.call("talos_rollback", { nodes: ["10.5.0.6"], confirm: true }));
    });
    expect(calls.map(short)).toEqual([...QUORUM_READS, "MachineService/Rollback"]);
    expect(calls.at(-1)!.request).toEqual({});
    // The node is rebooting: it refuses calls for a while (a bounded number in the simulator), then answers.
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) {
      answers.push(entry(structured(await h.call("talos_version", { nodes: ["10.5.0.6"] })), "10.5.0.6").tag ?? "down");
    }
    expect(answers.filter((a) => a === "down").length).toBeGreaterThan(0);
    expect(answers.at(-1)).toBe("v1.12.4");
  });

  test("a node without a previous installation reports Talos' refusal", async () => {
    node("10.5.0.4").previousVersion = undefined;
    const r = failed(await h.call("talos_rollback", { nodes: ["10.5.0.4"], confirm: true }));
    expect(entry(r, "10.5.0.4").code).toBe("FAILED_PRECONDITION");
    expect(entry(r, "10.5.0.4").error).toContain("no previous installation");
  });
});
