/**
 * @module Robustness of the gRPC client against the simulator's connection faults: reads survive dropped
 * connections, a mutating call is never sent twice and says its outcome is unknown, a node-down answer
 * relayed by apid is not retried, a stopped endpoint is avoided for a while and then preferred again, and
 * no retry outlives the call's deadline.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../lib/config.ts";
import type { ToolError } from "../../lib/errors.ts";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { type TalosApi, talosApi } from "../../lib/talos/api.ts";
import { type ClientTuning, TalosClient } from "../../lib/talos/client.ts";
import { AVOID_MS } from "../../lib/talos/endpoints.ts";
import { MAX_ATTEMPTS } from "../../lib/talos/retry.ts";
import { Sessions } from "../../lib/talos/session.ts";
import { callsSince, withNodeDown } from "../harness.ts";

let sim: Sim;
const clients: TalosClient[] = [];

beforeAll(async () => {
  // Two endpoints (the first two control planes), so failover has somewhere to go.
  sim = await startSim({ controlPlanes: 3, workers: 1, endpoints: 2 });
});
// A test that fails midway must not leave its fault to the next one.
afterEach(() => {
  for (const e of sim.endpoints) e.faults.drop = undefined;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await sim.stop();
});

/** A client of the simulator's admin context, with a tiny backoff unless told otherwise. */
async function connect(tuning: ClientTuning = {}, timeoutMs = 10_000): Promise<TalosApi> {
  const ctx = new Sessions(loadConfig({}), { TALOSCONFIG: sim.talosconfig }).context();
  const client = new TalosClient(ctx, timeoutMs, undefined, { retryBaseMs: 1, ...tuning });
  clients.push(client);
  return await talosApi(client);
}

const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: ToolError) => e);
const worker = () => sim.cluster.nodes[3];

describe("reads", () => {
  test("a unary read survives two dropped connections: three attempts recorded, the right answer", async () => {
    const api = await connect();
    const calls = callsSince(sim);
    sim.endpoints[0].faults.drop = { times: 2 };
    const r = await api.machine.Version({}, { node: worker().ip });
    expect(r.messages[0].version!.tag).toBe(worker().version);
    expect(calls("Version")).toHaveLength(3);
    expect(sim.endpoints[0].faults.drop.times).toBe(0);
  });

  test("a streamed read is retried before its first message", async () => {
    const api = await connect();
    const calls = callsSince(sim);
    sim.endpoints[0].faults.drop = { times: 2, method: "Read" };
    const chunks: Buffer[] = [];
    for await (const m of api.machine.Read({ path: "/proc/sys/kernel/random/boot_id" }, { node: worker().ip })) {
      chunks.push(Buffer.from(m.bytes ?? []));
    }
    expect(Buffer.concat(chunks).toString().trim()).toBe(worker().bootId);
    expect(calls("Read")).toHaveLength(3);
  });

  test("a node-down UNAVAILABLE relayed by apid is an answer, not retried", async () => {
    const api = await connect();
    const calls = callsSince(sim);
    const err = await withNodeDown(sim, 3, () => rejection(api.machine.Version({}, { node: worker().ip })));
    expect(err?.code).toBe("UNAVAILABLE");
    expect(err?.message).toContain(`dial tcp ${worker().ip}:50000`);
    expect(calls("Version")).toHaveLength(1);
    const streamErr = await withNodeDown(sim, 3, async () => {
      try {
        for await (const _ of api.machine.Read({ path: "/etc/os-release" }, { node: worker().ip })) { /* none */ }
      } catch (e) {
        return e as ToolError;
      }
    });
    expect(streamErr?.code).toBe("UNAVAILABLE");
    expect(calls("Read")).toHaveLength(1);
  });

  test("an endpoint dropping every call costs at most MAX_ATTEMPTS tries", async () => {
    const api = await connect();
    const calls = callsSince(sim);
    sim.endpoints[0].faults.drop = { times: 100 };
    try {
      const err = await rejection(api.machine.Hostname({}, { node: worker().ip }));
      expect(err?.message).toContain(`(${MAX_ATTEMPTS} attempts`);
      expect(calls("Hostname")).toHaveLength(MAX_ATTEMPTS);
    } finally {
      sim.endpoints[0].faults.drop = undefined;
    }
  });

  test("retries end at the call's deadline with DEADLINE_EXCEEDED", async () => {
    // Backoff 100, 200, 400 ms at full jitter: the third wait would pass the 400 ms deadline.
    const api = await connect({ retryBaseMs: 100, random: () => 1 }, 400);
    const calls = callsSince(sim);
    sim.endpoints[0].faults.drop = { times: 100 };
    const started = Date.now();
    try {
      const err = await rejection(api.machine.Hostname({}, { node: worker().ip }));
      expect(err?.code).toBe("DEADLINE_EXCEEDED");
      expect(err?.message).toContain("Last failure, after 3 attempt(s)");
      expect(calls("Hostname")).toHaveLength(3);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      sim.endpoints[0].faults.drop = undefined;
    }
  });
});

describe("mutating calls", () => {
  test("a Reboot whose connection drops is sent once and reported as outcome unknown", async () => {
    const api = await connect();
    const calls = callsSince(sim);
    const bootId = worker().bootId;
    sim.endpoints[0].faults.drop = { times: 1, method: "Reboot" };
    const err = await rejection(api.machine.Reboot({ mode: "DEFAULT" }, { node: worker().ip }));
    expect(err?.code).toBe("OUTCOME_UNKNOWN");
    expect(err?.message).toContain("outcome unknown");
    expect(err?.message).toContain("talos_version");
    expect(calls("Reboot")).toHaveLength(1); // a retry would have gone through: the fault was spent
    expect(worker().bootId).toBe(bootId);
    expect(worker().rebootingFor ?? 0).toBe(0);
  });

  test("an ApplyConfiguration cut off says to read the machine config", async () => {
    const api = await connect();
    const calls = callsSince(sim);
    sim.endpoints[0].faults.drop = { times: 1, method: "ApplyConfiguration" };
    const err = await rejection(
      api.machine.ApplyConfiguration({ data: Buffer.from(worker().machineConfig), mode: "NO_REBOOT", dry_run: true }, {
        node: worker().ip,
      }),
    );
    expect(err?.code).toBe("OUTCOME_UNKNOWN");
    expect(err?.message).toContain("talos_get machineconfig");
    expect(calls("ApplyConfiguration")).toHaveLength(1);
  });
});

describe("endpoints", () => {
  test("a stopped endpoint is failed over, avoided within the window, then preferred again", async () => {
    let now = 1_000_000;
    const api = await connect({ now: () => now });
    await api.machine.Hostname({}, {}); // connected to endpoint 0
    const first = sim.endpoints[0];
    await first.stop();
    try {
      const calls = callsSince(sim);
      // A mutating call fails over too: the request never reached the stopped endpoint.
      await api.machine.ServiceRestart({ id: "kubelet" }, { node: worker().ip });
      await api.machine.Version({}, { node: worker().ip });
      expect(calls("ServiceRestart").map((c) => c.endpoint)).toEqual([1]);
      const dials = first.dials;
      for (let i = 0; i < 3; i++) await api.machine.Version({}, { node: worker().ip });
      expect(calls("Version").map((c) => c.endpoint)).toEqual([1, 1, 1, 1]);
      expect(first.dials).toBe(dials); // not dialled again inside the window
      expect(calls("ServiceRestart")).toHaveLength(1);
    } finally {
      await first.start();
    }
    const calls = callsSince(sim);
    now += AVOID_MS - 1;
    await api.machine.Version({}, { node: worker().ip });
    now += 1;
    await api.machine.Version({}, { node: worker().ip });
    await api.machine.Version({}, { node: worker().ip });
    expect(calls("Version").map((c) => c.endpoint)).toEqual([1, 0, 0]);
  });
});
