/**
 * @module Test harness for the HTTP transport: dist/talos-mcp --http on a free
 * loopback port against a simulated cluster, and SDK clients over
 * StreamableHTTPClientTransport.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Sim } from "../lib/sim/mod.ts";
import { WARMUP_DONE } from "../lib/warmup.ts";
import { BIN } from "./harness.ts";

export interface HttpProc {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  /** http://127.0.0.1:PORT */
  base: string;
  proc: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves once stderr contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Spawns the binary with `--http 127.0.0.1:0` (or TALOS_MCP_HTTP_ADDR when `viaEnv`); resolves once it listens (and, unless
 * TALOS_MCP_WARMUP=false, has warmed up, so RPC counts are not disturbed).
 */
export async function spawnHttp(
  sim: Sim,
  opts: { env?: Record<string, string>; addr?: string; viaEnv?: boolean } = {},
): Promise<HttpProc> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  const addr = opts.addr ?? "127.0.0.1:0";
  const proc = spawn(BIN, opts.viaEnv ? [] : ["--http", addr], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: sim.dir,
      TALOSCONFIG: sim.talosconfig,
      TALOS_MCP_TOOLSETS: "all", // every tool: the tests drive all of them
      ...(opts.viaEnv ? { TALOS_MCP_HTTP_ADDR: addr } : {}),
      ...opts.env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const waiters: Array<() => void> = [];
  proc.stderr!.on("data", (b: Buffer) => {
    stderr += b.toString();
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const waitFor = async (text: string, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!stderr.includes(text)) {
      if (proc.exitCode !== null) throw new Error(`talos-mcp exited (${proc.exitCode}): ${stderr}`);
      if (Date.now() > deadline) throw new Error(`talos-mcp never said "${text}"; stderr: ${stderr}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  };
  await waitFor("listening on ");
  const url = /listening on (\S+)/.exec(stderr)![1];
  if (opts.env?.TALOS_MCP_WARMUP !== "false") await waitFor(WARMUP_DONE);
  return {
    url,
    base: url.replace(/\/mcp$/, ""),
    proc,
    stderr: () => stderr,
    exited,
    waitFor,
    stop: async () => {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

/** An SDK client connected over streamable HTTP, with extra request headers. */
export async function httpClient(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: "talos-mcp-tests", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  // As real clients do: with the tool list cached, the SDK validates each result against its outputSchema.
  await client.listTools();
  return client;
}
