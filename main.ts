/**
 * @module talos-mcp: MCP server for Talos Linux clusters.
 *
 * main.ts parses flags and picks a mode: the MCP server over stdio (default),
 * over streamable HTTP (`--http ADDR`), the cluster view in a local browser (`dashboard`), or the simulated
 * cluster (`sim`). Heavy modules load lazily, so the server
 * answers `initialize` before grpc-js or the protos are touched.
 */
import { ConfigError, loadConfig } from "./lib/config.ts";
import { log, setLevel } from "./lib/log.ts";
import { serveStdio } from "./lib/stdio.ts";
import { PolicySource } from "./lib/guards/policy_source.ts";
import { selectTools } from "./lib/tools/toolsets.ts";
import { COMMIT, VERSION } from "./lib/version.ts";

const USAGE = `talos-mcp ${VERSION}: MCP server for Talos Linux clusters

Usage:
  talos-mcp                 serve MCP over stdio (what MCP clients run)
  talos-mcp --http ADDR     serve MCP over streamable HTTP at http://ADDR/mcp (e.g. 127.0.0.1:8080;
                            or set TALOS_MCP_HTTP_ADDR); a token is required off loopback
  talos-mcp dashboard [--context X]
                            serve the cluster view (the MCP Apps view) in your browser: loopback, an
                            ephemeral port, a random token in the printed URL; read-only tools only
  talos-mcp sim [options]   run a simulated Talos cluster on 127.0.0.1 and print its talosconfig path
                            (--control-planes N, --workers N, --port P, --dir DIR; see --help there)
  talos-mcp config CLIENT   print (or --write) this binary's entry for an MCP client: claude-code,
                            claude-desktop, cursor, vscode, codex, gemini (see --help there)
  talos-mcp --toolsets LIST  offer these toolsets (default: core,diagnostics; "all" for every tool): core,
                            diagnostics, files, etcd, lifecycle, credentials; also --tools LIST (exact tools,
                            added) and --disabled-tools LIST (removed). Combine with --http as needed.
  talos-mcp --version       print version and commit
  talos-mcp --help          this text

Talos credentials come from the talosconfig, found as talosctl finds it: TALOSCONFIG,
$TALOS_HOME/config or ~/.talos/config, /var/run/secrets/talos.dev/config.
Settings (environment): TALOS_CONTEXT, TALOS_ENDPOINTS, TALOS_MCP_READ_ONLY, TALOS_MCP_MAX_OUTPUT,
TALOS_MCP_TOOLSETS, TALOS_MCP_TOOLS, TALOS_MCP_DISABLED_TOOLS, TALOS_MCP_TIMEOUT_MS, TALOS_MCP_CONCURRENCY, TALOS_MCP_ALLOWED_CONTEXTS, TALOS_MCP_SHOW_SECRETS,
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
  const dashboard = cmd === "dashboard";
  // The dashboard parses its own flags (--context) once the config is loaded.
  const parsed = dashboard ? { httpAddr: undefined, env: {} } : parseServerFlags(argv);
  if (typeof parsed === "string") {
    process.stderr.write(`talos-mcp: ${parsed}\n${parsed.startsWith("unknown argument") ? `\n${USAGE}` : ""}`);
    return 2;
  }
  const { httpAddr, env } = parsed;
  let config;
  try {
    config = loadConfig({ ...process.env, ...env });
    selectTools(config); // unknown toolset or tool names stop the server here, with the valid names
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`talos-mcp: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  setLevel(config.logLevel);
  let policy: PolicySource | undefined;
  if (config.policyFile) {
    try {
      policy = new PolicySource(config.policyFile);
    } catch (err) {
      // Every mistake, each with its line and path: the server does not start on a policy it cannot read.
      process.stderr.write(`talos-mcp: ${(err as Error).message}\n`);
      return 2;
    }
    log("info", `policy from ${config.policyFile} in force (re-read when it changes or on SIGHUP)`);
  }
  // Last resort: a promise someone forgot to handle must not take down a server other calls depend on.
  process.on("unhandledRejection", (err) => log("error", `unhandled rejection: ${(err as Error)?.stack ?? err}`));
  if (dashboard) {
    const { runDashboard } = await import("./lib/apps/dashboard.ts");
    return await runDashboard(config, rest, policy) ?? -1;
  }
  if (httpAddr !== undefined || process.env.TALOS_MCP_HTTP_ADDR) {
    // Loaded only here: the stdio path never pays for the HTTP code.
    const { runHttp } = await import("./lib/http/mod.ts");
    return runHttp(config, httpAddr, policy) ?? -1;
  }
  await serveStdio(config, policy);
  return -1; // keep running until stdin closes
}

/** Flags that set a variable: the flag wins over the environment. */
const FLAG_ENV: Record<string, string> = {
  "--toolsets": "TALOS_MCP_TOOLSETS",
  "--tools": "TALOS_MCP_TOOLS",
  "--disabled-tools": "TALOS_MCP_DISABLED_TOOLS",
};

/** `--http ADDR` and the FLAG_ENV flags, as `--flag value` or `--flag=value`; a string is the error. */
function parseServerFlags(argv: string[]): { httpAddr?: string; env: Record<string, string> } | string {
  const env: Record<string, string> = {};
  let httpAddr: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (flag !== "--http" && !(flag in FLAG_ENV)) {
      if (httpAddr !== undefined && !arg.startsWith("-")) {
        return `unexpected argument "${arg}" after --http ${httpAddr}, e.g. --http 127.0.0.1:8080`;
      }
      return `unknown argument "${arg}"`;
    }
    const value = eq > 0 && flag !== arg ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value.startsWith("--")) {
      return flag === "--http" ? "--http needs an address, e.g. --http 127.0.0.1:8080" : `${flag} needs a value`;
    }
    if (flag === "--http") httpAddr = value;
    else env[FLAG_ENV[flag]] = value;
  }
  return { httpAddr, env };
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
