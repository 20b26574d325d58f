/**
 * @module Logging to stderr only: stdout carries the JSON-RPC stream. Lines
 * can also be mirrored to the MCP client as logging notifications.
 */

export type Level = "debug" | "info" | "notice" | "warning" | "error";
const ORDER: Level[] = ["debug", "info", "notice", "warning", "error"];

type Sink = (level: Level, message: string) => void;
let mcpSink: Sink | undefined;
let threshold: Level = (process.env.TALOS_MCP_LOG_LEVEL as Level | undefined) ?? "info";

/** Mirror log lines to the connected MCP client (set once the server is up). */
export function setMcpSink(sink: Sink | undefined): void {
  mcpSink = sink;
}

export function setLevel(level: Level): void {
  threshold = level;
}

export function log(level: Level, message: string): void {
  if (ORDER.indexOf(level) < ORDER.indexOf(threshold)) return;
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
