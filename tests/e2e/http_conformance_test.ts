/**
 * @module The MCP conformance suite (@modelcontextprotocol/conformance, run with the
 * project's bun: it needs a newer runtime than Node 20) against the compiled
 * binary over streamable HTTP. Every scenario runs; failures must be exactly
 * those in tests/conformance/expected_failures.yml, and the scenarios the
 * HTTP transport is judged by must pass outright.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { type HttpProc, spawnHttp } from "../harness_http.ts";

const SUITE = join(
  dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/conformance/package.json")),
  "dist/index.js",
);
const EXPECTED = join(import.meta.dir, "../conformance/expected_failures.yml");
/** Must have at least one SUCCESS check and no FAILURE. */
const MUST_PASS = ["server-initialize", "ping", "tools-list", "logging-set-level", "dns-rebinding-protection"];
/** SSE scenarios: must run and fail nothing (warnings about statelessness are expected). */
const SSE = ["server-sse-polling", "server-sse-multiple-streams"];

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED";
  errorMessage?: string;
}

let sim: Sim;
let srv: HttpProc;
let out: string;

beforeAll(async () => {
  sim = await startSim({ controlPlanes: 1, workers: 1 });
  srv = await spawnHttp(sim, { env: { TALOS_MCP_WARMUP: "false" } });
  out = mkdtempSync(join(tmpdir(), "talos-mcp-conformance-"));
});
afterAll(async () => {
  await srv?.stop();
  await sim?.stop();
  if (out) rmSync(out, { recursive: true, force: true });
});

test("the conformance suite passes, but for the listed expected failures", async () => {
  const run = Bun.spawn(
    [process.execPath, SUITE, "server", "--url", srv.url, "--suite", "all", "--expected-failures", EXPECTED, "-o", out],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
  );
  const [code, stdout, stderr] = await Promise.all([
    run.exited,
    new Response(run.stdout).text(),
    new Response(run.stderr).text(),
  ]);
  const summary = stdout.slice(stdout.indexOf("=== SUMMARY ===")) + stderr;
  expect({ code, summary }).toMatchObject({ code: 0 });

  const byScenario = new Map<string, Check[]>();
  for (const dir of readdirSync(out)) {
    const scenario = dir.replace(/^server-/, "").replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, "");
    byScenario.set(scenario, JSON.parse(readFileSync(join(out, dir, "checks.json"), "utf8")));
  }
  for (const s of [...MUST_PASS, ...SSE]) {
    const checks = byScenario.get(s);
    expect({ s, ran: checks !== undefined }).toEqual({ s, ran: true });
    const failures = checks!.filter((c) => c.status === "FAILURE");
    expect({ s, failures }).toEqual({ s, failures: [] });
    if (MUST_PASS.includes(s)) expect(checks!.some((c) => c.status === "SUCCESS")).toBe(true);
  }
  // The warnings the expected-failures file explains, and no others.
  const sseWarnings = SSE.flatMap((s) => byScenario.get(s)!.filter((c) => c.status === "WARNING").map((c) => c.id));
  expect(sseWarnings.sort()).toEqual([
    "server-sse-multiple-streams-session",
    "server-sse-polling-session",
    "server-sse-priming-event",
    "server-sse-retry-field",
  ]);
});
