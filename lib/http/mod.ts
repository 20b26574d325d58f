/** @module `talos-mcp --http ADDR`: parse the HTTP settings, serve, and drain on SIGTERM. */
import { type Config, ConfigError } from "../config.ts";
import type { PolicySource } from "../guards/policy_source.ts";
import { log } from "../log.ts";
import { loadHttpOptions } from "./options.ts";
import { serveHttp } from "./serve.ts";

/** Runs until SIGTERM/SIGINT; returns an exit code only when it cannot start. */
export function runHttp(
  config: Readonly<Config>,
  addr: string | undefined,
  policy?: PolicySource,
): number | undefined {
  let opts;
  try {
    opts = loadHttpOptions(addr);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`talos-mcp: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config.showSecrets) {
    log("warning", "TALOS_MCP_SHOW_SECRETS=true: secrets in machine configs, files and logs reach the agent unmasked");
  }
  let http;
  try {
    http = serveHttp(config, opts, process.env, undefined, policy);
  } catch (err) {
    process.stderr.write(`talos-mcp: cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}\n`);
    return 1;
  }
  const auth = [opts.oauth && `OAuth tokens of ${opts.oauth.issuer}`, opts.token && "bearer token"]
    .filter(Boolean).join(" or ") || "no token (loopback only)";
  log("info", `listening on ${http.url} (${auth}; health: /healthz, /readyz)`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", `${signal}: finishing ${http.inFlight()} in-flight requests, then exiting`);
    await http.shutdown();
    log("info", "shutdown complete");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  return undefined;
}
