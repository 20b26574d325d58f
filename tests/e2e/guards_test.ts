/**
 * @module The safety layer through the compiled binary: the confirm contract, human
 * consent by elicitation, read-only mode, the etcd quorum guard, the upgrade
 * path, and the audit line of every mutating call. Every refusal is checked to
 * have sent no RPC at all (or, for the etcd and version checks, only reads).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ElicitRequest } from "@modelcontextprotocol/sdk/types.js";
import { entry, failed, type Harness, ok, spawnHarness, text } from "../harness.ts";

const FAST = { TALOS_MCP_POLL_INTERVAL_MS: "10" };
const MUTATING_RPC = /\/(Reboot|Rollback|Upgrade|ServiceStart|ServiceStop|ServiceRestart|ApplyConfiguration|Pull)$/;
const AUDIT_RE =
  /^AUDIT timestamp=(\S+) caller=stdio tool=(talos_[a-z_]+) nodes=(\S+) outcome=(ok|denied|error) args=(\{.*\})$/;

let h: Harness;

beforeAll(async () => {
  h = await spawnHarness({ sim: { controlPlanes: 3, workers: 1 }, env: FAST });
});
afterAll(() => h?.close());

/** Runs `fn` and returns the RPCs the simulator received meanwhile. */
async function rpcsDuring<T>(fn: () => Promise<T>, harness = h): Promise<{ value: T; methods: string[] }> {
  const mark = harness.sim.calls.length;
  const value = await fn();
  return { value, methods: harness.sim.calls.slice(mark).map((c) => c.method.replace(/^\/[^/]*\./, "")) };
}

function auditLines(harness: Harness): string[] {
  return harness.stderr().split("\n").filter((l) => l.startsWith("AUDIT "));
}

describe("the confirm contract", () => {
  test.each([
    ["missing", undefined],
    ['the string "true"', "true"],
    ["false", false],
    ["1", 1],
  ])("confirm %s is refused before any RPC", async (_label, confirm) => {
    const { value: r, methods } = await rpcsDuring(() =>
      h.call("talos_reboot", { nodes: ["10.5.0.5"], ...(confirm === undefined ? {} : { confirm }) })
    );
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("confirm: true");
    expect(text(r)).toContain("Nothing was sent");
    expect(methods).toEqual([]);
  });

  test.each(["talos_reboot", "talos_rollback", "talos_service_action", "talos_upgrade"])(
    "%s without explicit nodes is refused before any RPC",
    async (tool) => {
      for (const nodes of [undefined, []]) {
        const { value: r, methods } = await rpcsDuring(() =>
          h.call(tool, { confirm: true, ...(nodes ? { nodes } : {}) })
        );
        expect(r.isError).toBe(true);
        expect(text(r)).toContain("explicit nodes");
        expect(methods).toEqual([]);
      }
    },
  );

  test("applying a patch needs confirm; a dry run does not", async () => {
    const apply = await rpcsDuring(() =>
      h.call("talos_patch_config", { nodes: ["10.5.0.5"], patch: "machine:\n  env:\n    A: b\n", dry_run: false })
    );
    expect(apply.value.isError).toBe(true);
    expect(text(apply.value)).toContain("confirm: true");
    expect(apply.methods).toEqual([]);
    const dry = await rpcsDuring(() =>
      h.call("talos_patch_config", { nodes: ["10.5.0.5"], patch: "machine:\n  env:\n    A: b\n" })
    );
    expect(entry(ok(dry.value), "10.5.0.5").changed).toBe(true);
    expect(dry.methods).toContain("MachineService/ApplyConfiguration");
    expect(h.sim.callsTo("ApplyConfiguration").at(-1)!.request).toMatchObject({ dry_run: true, mode: "AUTO" });
  });

  test("a service Talos does not let be controlled is refused before any RPC, saying why", async () => {
    const { value: r, methods } = await rpcsDuring(() =>
      h.call("talos_service_action", { nodes: ["10.5.0.2"], service_name: "etcd", action: "restart", confirm: true })
    );
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("only kubelet (start, restart) and extension services");
    expect(text(r)).toContain("talos_reboot");
    expect(methods).toEqual([]);
    const stop = await rpcsDuring(() =>
      h.call("talos_service_action", { nodes: ["10.5.0.5"], service_name: "kubelet", action: "stop", confirm: true })
    );
    expect(text(stop.value)).toContain("not stopped");
    expect(text(stop.value)).toContain(`Talos does not let "kubelet" be stopped through its API`);
    expect(stop.methods).toEqual([]);
  });
});

describe("audit", () => {
  test("every mutating call leaves one AUDIT line on stderr and an MCP log notice; patch content is redacted", async () => {
    const before = auditLines(h).length;
    const logsBefore = h.logs().length;
    const secret = "supersecretpassword123";
    await h.call("talos_patch_config", {
      nodes: ["10.5.0.5"],
      patch: `machine:\n  env:\n    PASSWORD: ${secret}\n`,
      dry_run: false,
    });
    ok(
      await h.call("talos_service_action", {
        nodes: ["10.5.0.5"],
        service_name: "kubelet",
        action: "restart",
        confirm: true,
      }),
    );
    ok(await h.call("talos_version", { nodes: ["10.5.0.5"] })); // read-only: no audit line
    const lines = auditLines(h).slice(before);
    expect(lines.length).toBe(2);
    const [denied, done] = lines.map((l) => AUDIT_RE.exec(l)!);
    expect(denied).not.toBeNull();
    expect(done).not.toBeNull();
    expect(new Date(denied[1]).toISOString()).toBe(denied[1]);
    expect(denied.slice(2, 5)).toEqual(["talos_patch_config", "10.5.0.5", "denied"]);
    expect(JSON.parse(denied[5])).toEqual({
      nodes: ["10.5.0.5"],
      patch: expect.stringMatching(/^<redacted: \d+ bytes>$/),
      dry_run: false,
    });
    expect(done.slice(2, 5)).toEqual(["talos_service_action", "10.5.0.5", "ok"]);
    expect(JSON.parse(done[5])).toEqual({
      nodes: ["10.5.0.5"],
      service_name: "kubelet",
      action: "restart",
      confirm: true,
    });
    expect(h.stderr()).not.toContain(secret);
    const notices = h.logs().slice(logsBefore).filter((l) => l.data.startsWith("AUDIT "));
    expect(notices.map((l) => l.data)).toEqual(lines);
    expect(notices.every((l) => l.level === "notice")).toBe(true);
  });

  test("a failing call is audited as error", async () => {
    h.sim.cluster.nodes[3].faults.down = true;
    try {
      const before = auditLines(h).length;
      const r = failed(
        await h.call("talos_service_action", {
          nodes: ["10.5.0.5"],
          service_name: "kubelet",
          action: "start",
          confirm: true,
        }),
      );
      expect(entry(r, "10.5.0.5").code).toBe("UNAVAILABLE");
      expect(auditLines(h).slice(before)).toHaveLength(1);
      expect(auditLines(h).at(-1)).toContain("tool=talos_service_action nodes=10.5.0.5 outcome=error ");
    } finally {
      h.sim.cluster.nodes[3].faults.down = false;
    }
  });
});

describe("etcd quorum", () => {
  test("with one of three control planes down, rebooting another is refused; only etcd reads are sent", async () => {
    h.sim.cluster.nodes[2].faults.down = true;
    try {
      const { value: r, methods } = await rpcsDuring(() =>
        h.call("talos_reboot", { nodes: ["10.5.0.3"], confirm: true })
      );
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("would leave etcd with 1 of 3 members healthy; quorum needs 2");
      expect(text(r)).toContain("sim-cp-3");
      expect(text(r)).toContain("Bring the unhealthy members back first");
      expect(methods.some((m) => MUTATING_RPC.test(m))).toBe(false);
      expect(new Set(methods)).toEqual(new Set(["MachineService/EtcdMemberList", "MachineService/EtcdStatus"]));
      // The worker is not an etcd member: rebooting it is fine.
      ok(await h.call("talos_reboot", { nodes: ["10.5.0.5"], confirm: true }));
      expect(h.sim.callsTo("Reboot").at(-1)!.node).toEqual(["10.5.0.5"]);
    } finally {
      h.sim.cluster.nodes[2].faults.down = false;
      h.sim.cluster.nodes[3].rebootingFor = 0;
    }
  });

  test("rebooting two of three healthy control planes at once is refused; one is allowed", async () => {
    const r = await h.call("talos_reboot", { nodes: ["10.5.0.2", "10.5.0.3"], confirm: true });
    expect(text(r)).toContain("would leave etcd with 1 of 3 members healthy");
    expect(text(r)).toContain("one control-plane node at a time");
    const before = h.sim.callsTo("Reboot").length;
    ok(await h.call("talos_reboot", { nodes: ["10.5.0.4"], confirm: true, wait: true }));
    expect(h.sim.callsTo("Reboot").length).toBe(before + 1);
  });
});

describe("upgrade path", () => {
  test("two minors at once is rejected with the path; only Version was asked", async () => {
    const { value: r, methods } = await rpcsDuring(() =>
      h.call("talos_upgrade", { nodes: ["10.5.0.5"], image: "ghcr.io/siderolabs/installer:v1.15.0", confirm: true })
    );
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("10.5.0.5 (v1.13.9): v1.13 → v1.15 skips 1 minor version(s)");
    expect(text(r)).toContain("v1.14.x (latest patch) → v1.15.0");
    expect(text(r)).toContain("TALOS_MCP_SKIP_VERSION_CHECK=true");
    expect(methods).toEqual(["MachineService/Version"]);
  });
});

test("TALOS_MCP_SKIP_VERSION_CHECK=true lets a two-minor upgrade through", async () => {
  const skip = await spawnHarness({ simInstance: h.sim, env: { ...FAST, TALOS_MCP_SKIP_VERSION_CHECK: "true" } });
  try {
    const r = ok(
      await skip.call("talos_upgrade", {
        nodes: ["10.5.0.5"],
        image: "ghcr.io/siderolabs/installer:v1.15.0",
        confirm: true,
      }),
    );
    expect(entry(r, "10.5.0.5")).toMatchObject({ from: "v1.13.9", to: "v1.15.0", rebooted: true });
  } finally {
    await skip.close();
  }
});

describe("read-only mode", () => {
  test("mutating tools are not listed, and calling one by name is refused and audited", async () => {
    const ro = await spawnHarness({ simInstance: h.sim, env: { TALOS_MCP_READ_ONLY: "true" } });
    try {
      const names = (await ro.client.listTools()).tools.map((t) => t.name);
      for (
        const t of ["talos_reboot", "talos_upgrade", "talos_rollback", "talos_service_action", "talos_patch_config"]
      ) {
        expect(names).not.toContain(t);
      }
      const { value: r, methods } = await rpcsDuring(
        () => ro.call("talos_reboot", { nodes: ["10.5.0.5"], confirm: true }),
        ro,
      );
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("read-only (TALOS_MCP_READ_ONLY=true)");
      expect(methods).toEqual([]);
      expect(auditLines(ro).at(-1)).toMatch(/tool=talos_reboot nodes=10\.5\.0\.5 outcome=denied /);
    } finally {
      await ro.close();
    }
  });
});

describe("human consent by elicitation", () => {
  let asked: ElicitRequest[] = [];
  let answer: "accept" | "decline" | "cancel" | "fail" = "accept";
  let e: Harness;
  beforeAll(async () => {
    e = await spawnHarness({
      simInstance: h.sim,
      env: FAST,
      elicit: (req) => {
        asked.push(req);
        if (answer === "fail") throw new Error("the client could not show the question");
        return { action: answer, ...(answer === "accept" ? { content: {} } : {}) };
      },
    });
  });
  afterAll(() => e?.close());
  /** The consent-guarded call these tests answer for, with the RPCs it sent. */
  const restartKubelet = () =>
    rpcsDuring(
      () =>
        e.call("talos_service_action", {
          nodes: ["10.5.0.5"],
          service_name: "kubelet",
          action: "restart",
          confirm: true,
        }),
      e,
    );

  test.each(["decline", "cancel"] as const)("%s aborts: no RPC", async (a) => {
    asked = [];
    answer = a;
    const { value: r, methods } = await restartKubelet();
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(a === "decline" ? "declined" : "cancelled");
    expect(methods).toEqual([]);
    expect(asked).toHaveLength(1);
    expect(auditLines(e).at(-1)).toContain("outcome=denied");
  });

  test("accept proceeds; the question says what and where", async () => {
    asked = [];
    answer = "accept";
    const { value: r, methods } = await restartKubelet();
    expect(entry(ok(r), "10.5.0.5").response).toBe('Service "kubelet" restarted');
    expect(methods).toContain("MachineService/ServiceRestart");
    expect(asked).toHaveLength(1);
    const msg = asked[0].params.message;
    expect(msg).toContain("talos_service_action");
    expect(msg).toContain('restart the service "kubelet"');
    expect(msg).toContain("10.5.0.5");
  });

  test("without confirm: true the human is never asked", async () => {
    asked = [];
    const r = await e.call("talos_service_action", { nodes: ["10.5.0.5"], service_name: "kubelet", action: "restart" });
    expect(r.isError).toBe(true);
    expect(asked).toHaveLength(0);
  });

  test("a failed question is no consent: no RPC", async () => {
    answer = "fail";
    const { value: r, methods } = await restartKubelet();
    expect(text(r)).toContain("Could not get the user's consent");
    expect(methods).toEqual([]);
  });

  test("consent to a patch shows the patch itself", async () => {
    asked = [];
    answer = "decline";
    const r = await e.call("talos_patch_config", {
      nodes: ["10.5.0.5"],
      patch: "machine:\n  env:\n    SHOWN: yes\n",
      dry_run: false,
      mode: "no-reboot",
      confirm: true,
    });
    expect(r.isError).toBe(true);
    expect(asked[0].params.message).toContain("SHOWN: yes");
    expect(asked[0].params.message).toContain("mode no-reboot");
  });

  test("a dry run asks nobody", async () => {
    asked = [];
    ok(await e.call("talos_patch_config", { nodes: ["10.5.0.5"], patch: "machine:\n  env:\n    A: b\n" }));
    expect(asked).toHaveLength(0);
  });
});
