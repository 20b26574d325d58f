/**
 * @module talos-mcp: MCP server for Talos Linux clusters.
 *
 * main.ts parses flags and picks a mode: the MCP server over stdio (default),
 * over streamable HTTP (`--http ADDR`), or the simulated cluster (`sim`). Heavy modules load lazily, so the server
 * answers `initialize` before grpc-js or the protos are touched.
 */
import { ConfigError, loadConfig } from "./lib/config.ts";
import { log, setLevel } from "./lib/log.ts";
import { serveStdio } from "./lib/stdio.ts";
import { COMMIT, VERSION } from "./lib/version.ts";

const USAGE = `talos-mcp ${VERSION}: MCP server for Talos Linux clusters

Usage:
  talos-mcp                 serve MCP over stdio (what MCP clients run)
  talos-mcp --http ADDR     serve MCP over streamable HTTP at http://ADDR/mcp (e.g. 127.0.0.1:8080;
                            or set TALOS_MCP_HTTP_ADDR); a token is required off loopback
  talos-mcp sim [options]   run a simulated Talos cluster on 127.0.0.1 and print its talosconfig path
                            (--control-planes N, --workers N, --port P, --dir DIR; see --help there)
  talos-mcp config CLIENT   print (or --write) this binary's entry for an MCP client: claude-code,
                            claude-desktop, cursor, vscode, codex, gemini (see --help there)
  talos-mcp --version       print version and commit
  talos-mcp --help          this text

Talos credentials come from the talosconfig, found as talosctl finds it: TALOSCONFIG,
$TALOS_HOME/config or ~/.talos/config, /var/run/secrets/talos.dev/config.
Settings (environment): TALOS_CONTEXT, TALOS_ENDPOINTS, TALOS_MCP_READ_ONLY, TALOS_MCP_MAX_OUTPUT,
TALOS_MCP_TIMEOUT_MS, TALOS_MCP_CONCURRENCY, TALOS_MCP_ALLOWED_CONTEXTS, TALOS_MCP_SHOW_SECRETS,
TALOS_MCP_LOG_LEVEL; HTTP: TALOS_MCP_AUTH_TOKEN(_FILE), TALOS_MCP_ALLOWED_HOSTS, TALOS_MCP_ALLOWED_ORIGINS,
TALOS_MCP_HTTP_MAX_BODY, TALOS_MCP_HTTP_MAX_INFLIGHT, TALOS_MCP_HTTP_CALL_DEADLINE_MS, TALOS_MCP_HTTP_DRAIN_MS.
docs/configuration.md lists them all.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === "--version" || cmd === "-v" || cmd === "version") {
    process.stdout.write(`talos-mcp ${VERSION} (commit ${COMMIT})\n`);
    return 0;
  }
  if (cmd === "--help" || cmd === "-h" || cmd === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cmd === "config") {
    const { runConfigCli } = await import("./lib/client_config.ts");
    return runConfigCli(rest);
  }
  if (cmd === "sim") {
    const { runSimCli } = await import("./lib/sim/cli.ts");
    return runSimCli(rest);
  }
  let httpAddr: string | undefined;
  if (cmd === "--http" || cmd?.startsWith("--http=")) {
    httpAddr = cmd === "--http" ? rest[0] : cmd.slice("--http=".length);
    const extra = rest.slice(cmd === "--http" ? 1 : 0);
    if (!httpAddr || extra.length) {
      const why = httpAddr ? `unexpected argument "${extra[0]}" after --http ${httpAddr}` : "--http needs an address";
      process.stderr.write(`talos-mcp: ${why}, e.g. --http 127.0.0.1:8080\n`);
      return 2;
    }
  } else if (cmd !== undefined) {
    process.stderr.write(`talos-mcp: unknown argument "${cmd}"\n\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`talos-mcp: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  setLevel(config.logLevel);
  // Last resort: a promise someone forgot to handle must not take down a server other calls depend on.
  process.on("unhandledRejection", (err) => log("error", `unhandled rejection: ${(err as Error)?.stack ?? err}`));
  if (httpAddr !== undefined || process.env.TALOS_MCP_HTTP_ADDR) {
    // Loaded only here: the stdio path never pays for the HTTP code.
    const { runHttp } = await import("./lib/http/mod.ts");
    return runHttp(config, httpAddr) ?? -1;
  }
  await serveStdio(config);
  return -1; // keep running until stdin closes
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
