/** @module The gRPC client honours cancellation: an aborted signal stops a call at once and leaves no listener behind. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "../../lib/config.ts";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { Sessions } from "../../lib/talos/session.ts";

let sim: Sim;
let sessions: Sessions;

beforeAll(async () => {
  sim = await startSim();
  sessions = new Sessions(loadConfig({ TALOS_MCP_TIMEOUT_MS: "10000" }), { TALOSCONFIG: sim.talosconfig });
});
afterAll(async () => {
  sessions.close();
  await sim.stop();
});

/** An AbortSignal that counts its "abort" listeners. */
function countingSignal(ac: AbortController): { signal: AbortSignal; listeners: () => number } {
  let n = 0;
  const { signal } = ac;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, fn: EventListener, o?: AddEventListenerOptions) => {
    if (type === "abort") n++;
    add(type, fn, o);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, fn: EventListener, o?: EventListenerOptions) => {
    if (type === "abort") n--;
    remove(type, fn, o);
  }) as typeof signal.removeEventListener;
  return { signal, listeners: () => n };
}

test("a finished unary call removes its abort listener from a long-lived signal", async () => {
  const session = await sessions.get();
  const { signal, listeners } = countingSignal(new AbortController());
  const node = sim.cluster.nodes[0].ip;
  for (let i = 0; i < 5; i++) {
    await session.api.machine.Version({}, { node, signal });
  }
  expect(listeners()).toBe(0);
});

test("a unary call with an already aborted signal is cancelled, not run to its deadline", async () => {
  const session = await sessions.get();
  const node = sim.cluster.nodes[1];
  // The node would answer after an hour: a call that returns at all was cancelled (no clock involved).
  node.faults.delayMs = 3_600_000;
  try {
    const ac = new AbortController();
    ac.abort();
    const err = await session.api.machine.Version({}, {
      node: node.ip,
      signal: ac.signal,
    })
      .then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(Error);
  } finally {
    node.faults.delayMs = 0;
  }
});

test("a stream with an already aborted signal yields nothing and ends", async () => {
  const session = await sessions.get();
  const ac = new AbortController();
  ac.abort();
  const got: unknown[] = [];
  for await (
    const m of session.api.machine.Dmesg({ follow: false, tail: false }, {
      node: sim.cluster.nodes[0].ip,
      signal: ac.signal,
    })
  ) got.push(m);
  expect(got).toEqual([]);
});
