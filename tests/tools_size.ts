/** @module tools/list as a client sees it (in memory), and the bytes of it the model reads; shared by tests and the bench. */
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { loadConfig } from "../lib/config.ts";
import { createServer } from "../lib/server.ts";
import { ALL_TOOLS } from "../lib/tools/mod.ts";

/** Bytes of what the model reads of `tools`: each tool's name, description and input schema, as JSON. */
export function modelReadBytes(tools: Tool[]): number {
  return tools.reduce((sum, t) => sum + readBytes(t), 0);
}
export const readBytes = (t: Tool) =>
  Buffer.byteLength(JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema }));

export async function listTools(env: Record<string, string>, offered: typeof ALL_TOOLS = ALL_TOOLS): Promise<Tool[]> {
  const { server } = createServer({ config: loadConfig(env), tools: offered, env });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "snapshot", version: "1" });
  await client.connect(b);
  const { tools } = await client.listTools();
  await client.close();
  return tools;
}
