/** @module The MCP server over stdio: stdout is the JSON-RPC stream, logs go to stderr. */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Config } from "./config.ts";
import type { PolicySource } from "./guards/policy_source.ts";
import { log } from "./log.ts";
import { createServer } from "./server.ts";
import { selectTools } from "./tools/toolsets.ts";

export async function serveStdio(config: Readonly<Config>, policy?: PolicySource): Promise<void> {
  if (config.showSecrets) {
    log("warning", "TALOS_MCP_SHOW_SECRETS=true: secrets in machine configs, files and logs reach the agent unmasked");
  }
  const { server, sessions } = createServer({ config, tools: selectTools(config), policy });
  // A reloaded policy can change which tools this caller may use: the client is told to list them again.
  policy?.onChange(() => void server.sendToolListChanged().catch(() => {}));
  policy?.watch();
  const transport = new StdioServerTransport();
  const stop = async () => {
    sessions.close();
    await server.close().catch(() => {});
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  await server.connect(transport);
  // Exit when the client closes stdin. Registered after connect: attached earlier (or together with a
  // transport onclose hook) it delayed the first answer by ~14 ms in Bun (measured with npm run bench).
  process.stdin.on("end", () => void stop());
}
