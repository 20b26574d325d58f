/**
 * @module Logging to stderr only: stdout carries the JSON-RPC stream. Lines
 * can also be mirrored to the MCP client as logging notifications.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { maskText } from "./secrets.ts";

/** Log levels, least severe first (MCP's names; TALOS_MCP_LOG_LEVEL takes one). */
export const LEVELS = ["debug", "info", "notice", "warning", "error"] as const;
export type Level = typeof LEVELS[number];

type Sink = (level: Level, message: string) => void;
let mcpSink: Sink | undefined;
// main.ts sets the validated TALOS_MCP_LOG_LEVEL before anything logs.
let threshold: Level = "info";

/** The caller of the tool call being served (HTTP: the token's subject), carried into every log line it raises. */
const callers = new AsyncLocalStorage<string>();

/** Runs `fn` with `caller` named in each log line it writes (`caller=<id>` after the level). */
export function withCaller<T>(caller: string, fn: () => T): T {
  return callers.run(caller, fn);
}

/** Mirror log lines to the connected MCP client (set once the server is up). */
export function setMcpSink(sink: Sink | undefined): void {
  mcpSink = sink;
}

/** Lines below `level` are dropped (audit lines never are). */
export function setLevel(level: Level): void {
  threshold = level;
}

/**
 * A log line on stderr (and to the MCP client, when mirrored), if at or above the threshold. Always
 * masked: error details and stacks can quote node answers, and no log line needs a secret.
 */
export function log(level: Level, raw: string): void {
  if (LEVELS.indexOf(level) < LEVELS.indexOf(threshold)) return;
  const caller = callers.getStore();
  const message = caller === undefined ? maskText(raw) : `caller=${caller} ${maskText(raw)}`;
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`);
  mcpSink?.(level, message);
}

/**
 * An audit line: always written (whatever the log level), as is, to stderr,
 * and mirrored to the MCP client as a notice.
 */
export function audit(line: string): void {
  process.stderr.write(`${line}\n`);
  mcpSink?.("notice", line);
}
