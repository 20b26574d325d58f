/**
 * @module Test harness: a simulated cluster plus an MCP client connected either to the
 * compiled binary over stdio (end-to-end) or to the server in-process (fast
 * tool tests). Both use the official SDK Client.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import {
  type CallToolResult,
  type ElicitRequest,
  ElicitRequestSchema,
  type ElicitResult,
  LoggingMessageNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { Ajv, type ValidateFunction } from "ajv";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadConfig } from "../lib/config.ts";
import { createServer } from "../lib/server.ts";
import { type Sim, type SimOptions, startSim } from "../lib/sim/mod.ts";
import { ALL_TOOLS } from "../lib/tools/mod.ts";
import { toolSchemas } from "../lib/tools/schema.ts";
import { WARMUP_DONE } from "../lib/warmup.ts";

export const BIN = resolve(import.meta.dir, "..", process.env.TALOS_MCP_BIN ?? "dist/talos-mcp");

export interface Harness {
  sim: Sim;
  client: Client;
  /** Everything the server wrote to stderr so far (binary mode only). */
  stderr(): string;
  /** MCP logging notifications received so far. */
  logs(): Array<{ level: string; data: string }>;
  /** Resolves when an MCP log notification matching `match` has arrived (e.g. a call's audit line). */
  /** Waits for a log notification matching `match` (among those after index `after`); returns its text. */
  untilLog(match: (data: string) => boolean, after?: number, timeoutMs?: number): Promise<string>;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

type Env = Record<string, string>;

/** Answers the server's elicitation requests; giving one declares the elicitation capability. */
export type Elicit = (req: ElicitRequest) => ElicitResult | Promise<ElicitResult>;

function newClient(elicit?: Elicit): Client {
  const client = new Client(
    { name: "talos-mcp-tests", version: "1.0.0" },
    elicit ? { capabilities: { elicitation: {} } } : {},
  );
  if (elicit) client.setRequestHandler(ElicitRequestSchema, (req) => elicit(req));
  return client;
}

/**
 * Spawns dist/talos-mcp (or `command` with `args`, e.g. another build or the
 * npm launcher) against a fresh simulated cluster.
 */
export async function spawnHarness(
  opts: { sim?: SimOptions; env?: Env; simInstance?: Sim; elicit?: Elicit; command?: string; args?: string[] } = {},
): Promise<Harness> {
  const command = opts.command ?? BIN;
  if (!opts.command && !existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  const sim = opts.simInstance ?? await startSim(opts.sim);
  const transport = new StdioClientTransport({
    command,
    args: opts.args ?? [],
    // Every tool: the tests drive all of them (toolset selection has its own tests).
    env: {
      PATH: process.env.PATH ?? "",
      HOME: sim.dir,
      TALOSCONFIG: sim.talosconfig,
      TALOS_MCP_TOOLSETS: "all",
      ...opts.env,
    },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const client = newClient(opts.elicit);
  const logs = collectLogs(client);
  await client.connect(transport);
  await warmedUp(logs, opts.env);
  return wrap(sim, client, () => stderr, !opts.simInstance, logs);
}

/** The server in-process over an in-memory transport: same code path, no spawn. */
export async function inMemoryHarness(opts: { sim?: SimOptions; env?: Env; simInstance?: Sim } = {}): Promise<Harness> {
  const sim = opts.simInstance ?? await startSim(opts.sim);
  const env = { TALOSCONFIG: sim.talosconfig, HOME: sim.dir, ...opts.env };
  const { server } = createServer({ config: loadConfig(env), tools: ALL_TOOLS, env });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "talos-mcp-tests", version: "1.0.0" });
  const logs = collectLogs(client);
  await client.connect(b);
  await warmedUp(logs, opts.env);
  return wrap(sim, client, () => "", !opts.simInstance, logs);
}

interface Logs {
  lines: Array<{ level: string; data: string }>;
  waiters: Array<() => void>;
}

/** MCP logging notifications the server sent, as they arrive. */
function collectLogs(client: Client): Logs {
  const logs: Logs = { lines: [], waiters: [] };
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.lines.push({ level: n.params.level, data: String(n.params.data) });
    for (const w of logs.waiters.splice(0)) w();
  });
  return logs;
}

/**
 * The server connects in the background after initialize; wait for it to say
 * so, so that RPC counts in tests are not disturbed by warm-up calls.
 */
async function warmedUp(logs: Logs, env: Env = {}): Promise<void> {
  if (env.TALOS_MCP_WARMUP === "false") return;
  const deadline = Date.now() + 15_000;
  while (!logs.lines.some((l) => l.data.startsWith(WARMUP_DONE))) {
    if (Date.now() > deadline) throw new Error("the server never reported the end of its warm-up");
    await new Promise<void>((resolve) => {
      logs.waiters.push(resolve);
      setTimeout(resolve, 1_000);
    });
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>();

/**
 * What a strict client checks of every result: the structured value matches the tool's outputSchema
 * (for every tool, also those the server hides from the listing), and the text is that value's JSON.
 */
export function checkResult(name: string, r: CallToolResult): void {
  const tool = ALL_TOOLS.find((t) => t.name === name);
  if (!tool || r.isError) return;
  let validate = validators.get(name);
  if (!validate) validators.set(name, validate = ajv.compile(toolSchemas(tool).outputJson));
  if (!r.structuredContent) throw new Error(`${name} returned no structuredContent: ${text(r).slice(0, 300)}`);
  if (!validate(r.structuredContent)) {
    throw new Error(
      `${name} returned structuredContent that does not match its outputSchema: ${ajv.errorsText(validate.errors)}` +
        `\n${JSON.stringify(r.structuredContent).slice(0, 600)}`,
    );
  }
  if (text(r) !== JSON.stringify(r.structuredContent)) throw new Error(`${name}: the text is not the structured JSON`);
}

async function wrap(sim: Sim, client: Client, stderr: () => string, ownSim: boolean, logs: Logs): Promise<Harness> {
  // As real clients do: list the tools once, so the SDK validates each result against its outputSchema too.
  await client.listTools();
  return {
    sim,
    client,
    stderr,
    logs: () => logs.lines,
    untilLog: async (match, after = 0, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = logs.lines.slice(after).find((l) => match(l.data));
        if (hit) return hit.data;
        if (Date.now() > deadline) {
          throw new Error(`the awaited log line never came; logs: ${JSON.stringify(logs.lines)}`);
        }
        // Woken by the next notification; the timer only bounds a wait for one that never comes.
        await new Promise<void>((resolve) => {
          logs.waiters.push(resolve);
          setTimeout(resolve, 1_000);
        });
      }
    },
    call: async (name, args = {}) => {
      const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
      checkResult(name, r);
      return r;
    },
    close: async () => {
      await client.close();
      if (ownSim) await sim.stop();
    },
  };
}

/** The structured result of a successful call; fails loudly with the error text otherwise. */
export function ok<T = any>(r: CallToolResult): T {
  if (r.isError) throw new Error(`tool returned an error: ${text(r)}`);
  return r.structuredContent as T;
}

/**
 * The structured result of a call in which every targeted node failed: an error (isError) that still
 * lists each node with its error and code. Fails loudly when the call succeeded or has no such list.
 */
export function failed<T = any>(r: CallToolResult): T {
  if (!r.isError) throw new Error(`expected every node to fail, got success: ${text(r)}`);
  if (!r.structuredContent) throw new Error(`an error without the per-node list: ${text(r)}`);
  return r.structuredContent as T;
}

/** The structured result, whether some, all or no nodes failed. */
export function structured<T = any>(r: CallToolResult): T {
  if (!r.structuredContent) throw new Error(`no structured result: ${text(r)}`);
  return r.structuredContent as T;
}

export function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
}

/** The per-node entry for `node` in a `{nodes: [...]}` result. */
export function entry(result: { nodes: Array<{ node: string }> }, node: string): any {
  const e = result.nodes.find((n) => n.node === node);
  if (!e) throw new Error(`no entry for ${node} in ${JSON.stringify(result).slice(0, 300)}`);
  return e;
}

/** Runs `fn` with simulated node `i` down (unreachable through apid), then brings it back. */
export async function withNodeDown<T>(sim: Sim, i: number, fn: () => Promise<T>): Promise<T> {
  sim.cluster.nodes[i].faults.down = true;
  try {
    return await fn();
  } finally {
    sim.cluster.nodes[i].faults.down = false;
  }
}

/** From now on: `(method)` lists the calls to that method (short name) the simulator recorded since. */
export function callsSince(sim: Sim): (method: string) => Sim["calls"] {
  const n = sim.calls.length;
  return (method) => sim.calls.slice(n).filter((c) => c.method.endsWith(`/${method}`));
}
