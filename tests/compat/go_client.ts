/**
 * @module A real Talos client against the simulator: the Go talos-mcp (npm @talos-mcp/linux-x64,
 * built on Talos' own Go machinery client and config validator), driven over stdio with the
 * official MCP SDK client.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Sim } from "../../lib/sim/mod.ts";

export const GO_BIN = resolve(import.meta.dir, "../../node_modules/@talos-mcp/linux-x64/bin/talos-mcp");

/**
 * Whether the Go client can run here. The npm package exists for linux x64 only; there a missing
 * binary is an error (npm ci was not run), never a reason to skip.
 */
export function goClientAvailability(): { run: boolean; why?: string } {
  if (existsSync(GO_BIN)) return { run: true };
  if (process.platform === "linux" && process.arch === "x64") return { run: true };
  return { run: false, why: `the Go talos-mcp ships for linux x64 only (this is ${process.platform} ${process.arch})` };
}

export interface GoClient {
  /** Calls a tool and parses its JSON text; big integers (etcd ids) are kept as decimal strings. */
  call(name: string, args?: Record<string, unknown>): Promise<any>;
  /** The raw result, for tools whose text is not JSON (logs, file contents). */
  raw(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Each call's deadline: the Go server answers the simulator in milliseconds. */
const CALL_TIMEOUT_MS = 15_000;

export async function startGoClient(sim: Sim): Promise<GoClient> {
  if (!existsSync(GO_BIN)) throw new Error(`${GO_BIN} is missing: run npm ci (it is an optional dependency)`);
  const transport = new StdioClientTransport({
    command: GO_BIN,
    args: [],
    env: { PATH: process.env.PATH ?? "", HOME: sim.dir, TALOSCONFIG: sim.talosconfig },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const client = new Client({ name: "talos-mcp-compat", version: "1.0.0" });
  await client.connect(transport, { timeout: CALL_TIMEOUT_MS });
  const raw = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS })) as CallToolResult;
  return {
    raw,
    async call(name, args) {
      const r = await raw(name, args);
      const text = r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
      if (r.isError) throw new Error(`Go ${name} failed: ${text}\n${stderr}`);
      // Go prints uint64 ids as plain numbers, beyond what a JS number holds exactly.
      return JSON.parse(text.replace(/("(?:id|member_id|leader)":\s*)(\d{16,})/g, '$1"$2"'));
    },
    close: () => client.close(),
  };
}
