/** @module The pure rules behind the client's retries: what counts as a channel failure, what is a read, the avoid window. */
import { expect, test } from "bun:test";
import { AVOID_MAX_MS, AVOID_MS, EndpointHealth } from "../../lib/talos/endpoints.ts";
import { backoffMs, channelFailure, idempotent } from "../../lib/talos/retry.ts";

test("channel failures: grpc-js' own texts; apid's relayed dial errors are answers", () => {
  const cases: Array<[number, string, boolean, string | undefined]> = [
    [14, "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1", false, "unsent"],
    [14, "Stream refused by server", false, "unsent"],
    [14, "Channel closed before call started", false, "unsent"],
    [14, "anything", true, "unsent"], // the channel is in TRANSIENT_FAILURE
    [14, "Connection dropped", false, "dropped"],
    [14, "read ECONNRESET", false, "dropped"],
    [13, "Received RST_STREAM with code 0 (Call ended without gRPC status)", false, "dropped"],
    // Relayed by apid from the target node: never the channel, even with reset-like words or a failing channel.
    [
      14,
      'connection error: desc = "transport: Error while dialing: dial tcp 10.5.0.3:50000: no route"',
      false,
      undefined,
    ],
    [14, 'connection error: desc = "transport: read: connection reset by peer"', true, undefined],
    [14, "/machine.MachineService/Events failed (simulated fault)", false, undefined],
    [13, "some internal server error", false, undefined],
    [4, "Deadline exceeded", false, undefined],
  ];
  for (const [code, details, down, want] of cases) {
    expect([details, channelFailure({ code, details }, down)]).toEqual([details, want]);
  }
});

test("reads are the reader-level RPCs and a few admin reads; mutating RPCs are not", () => {
  for (const m of ["/machine.MachineService/Version", "/cosi.resource.State/Get", "/machine.MachineService/Read"]) {
    expect([m, idempotent(m)]).toEqual([m, true]);
  }
  for (
    const m of [
      "/machine.MachineService/Reboot",
      "/machine.MachineService/ApplyConfiguration",
      "/machine.ImageService/Pull",
      "/machine.LifecycleService/Upgrade",
      "/machine.MachineService/EtcdDefragment",
      "/machine.MachineService/MetaWrite",
    ]
  ) expect([m, idempotent(m)]).toEqual([m, false]);
});

test("backoff: full jitter over a doubling base, capped", () => {
  expect([1, 2, 3, 4].map((a) => backoffMs(a, 100, () => 1))).toEqual([100, 200, 400, 800]);
  expect(backoffMs(20, 100, () => 1)).toBe(2_000);
  expect(backoffMs(3, 100, () => 0)).toBe(0);
});

test("avoid window: doubles while failing, capped, counted once per window, reset by a success", () => {
  let now = 0;
  const h = new EndpointHealth(3, () => now);
  expect(h.order()).toEqual([0, 1, 2]);
  expect(h.failed(0)).toBe(true);
  expect(h.failed(0)).toBe(false); // a concurrent call failing on it too
  expect(h.order()).toEqual([1, 2, 0]);
  now += AVOID_MS;
  expect(h.order()).toEqual([0, 1, 2]); // tried first again
  h.failed(0);
  now += AVOID_MS;
  expect(h.avoided(0)).toBe(true); // the second window is twice as long
  now += AVOID_MS;
  expect(h.avoided(0)).toBe(false);
  for (let i = 0; i < 10; i++) {
    h.failed(0);
    now += AVOID_MAX_MS;
  }
  h.failed(0);
  now += AVOID_MAX_MS - 1;
  expect(h.avoided(0)).toBe(true);
  now += 1;
  expect(h.avoided(0)).toBe(false); // never longer than the cap
  h.succeeded(0);
  h.failed(0);
  now += AVOID_MS;
  expect(h.avoided(0)).toBe(false); // back to the first window after a success
});
