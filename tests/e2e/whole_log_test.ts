/**
 * @module tail_lines -1 on talos_logs and talos_dmesg: the whole log, as talosctl means it, still
 * bounded by the output cap, keeping the newest lines and saying what was left out.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { entry, type Harness, inMemoryHarness, ok, text } from "../harness.ts";

const N = "10.5.0.2";
let sim: Sim;
let wide: Harness;
let narrow: Harness;

beforeAll(async () => {
  sim = await startSim();
  const env = { TALOS_MCP_WARMUP: "false" };
  wide = await inMemoryHarness({ simInstance: sim, env: { ...env, TALOS_MCP_MAX_OUTPUT: "1MiB" } });
  narrow = await inMemoryHarness({ simInstance: sim, env: { ...env, TALOS_MCP_MAX_OUTPUT: "4KiB" } });
});
afterAll(async () => {
  await wide.close();
  await narrow.close();
  await sim.stop();
});

describe.each([
  ["talos_logs", { service_name: "kubelet" }],
  ["talos_dmesg", {}],
])("%s tail_lines -1", (tool, extra) => {
  test("returns the whole log when it fits, and asks Talos for all of it", async () => {
    const all = entry(ok(await wide.call(tool, { ...extra, nodes: [N], tail_lines: 5000 })), N).lines as string[];
    const mark = sim.calls.length;
    const r = ok(await wide.call(tool, { ...extra, nodes: [N], tail_lines: -1 }));
    expect(entry(r, N).lines).toEqual(all);
    expect(entry(r, N).omitted_lines).toBeUndefined();
    if (tool === "talos_logs") {
      const sent = sim.calls.slice(mark).find((c) => c.method.endsWith("/Logs"))!;
      expect((sent.request as { tail_lines: number }).tail_lines).toBe(-1);
    }
  });

  test("under a small output cap keeps the newest lines and says how many older ones were left out", async () => {
    const all = entry(ok(await wide.call(tool, { ...extra, nodes: [N], tail_lines: -1 })), N).lines as string[];
    const res = await narrow.call(tool, { ...extra, nodes: [N], tail_lines: -1 });
    const r = ok(res);
    const kept = entry(r, N).lines as string[];
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(all.slice(all.length - kept.length)); // the newest, in order
    expect(entry(r, N).omitted_lines).toBe(all.length - kept.length);
    expect(r.truncated.tool_limit).toContain("older lines were left out");
    expect(Buffer.byteLength(text(res))).toBeLessThanOrEqual(4096);
  });
});

test("tail_lines other than -1 or 1..5000 is refused with the rule", async () => {
  const r = await wide.call("talos_logs", { service_name: "kubelet", nodes: [N], tail_lines: 0 });
  expect(r.isError).toBe(true);
  expect(text(r)).toContain("tail_lines is 1 to 5000, or -1 for the whole log");
});
