/**
 * @module The floor for cold-start and memory figures: a bare MCP server over stdio
 * using the same SDK classes as talos-mcp and one trivial tool, compiled with
 * the same bun flags. Nothing of ours can start faster than this.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const server = new Server({ name: "floor", version: "1.0.0" }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, () => ({
  tools: [{ name: "noop", description: "does nothing", inputSchema: { type: "object" } }],
}));
server.setRequestHandler(CallToolRequestSchema, () => ({ content: [{ type: "text", text: "{}" }] }));
await server.connect(new StdioServerTransport());
