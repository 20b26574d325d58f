/**
 * @module Log lines raised during a tool call travel on that call's SSE stream, to
 * that client only, however many calls run at once (in-process serveHttp
 * with a test tool that logs; the binary cannot carry a test tool).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type CallToolResult, LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import * as v from "valibot";
import { loadConfig } from "../lib/config.ts";
import { type HttpServer, serveHttp } from "../lib/http/serve.ts";
import { loadHttpOptions } from "../lib/http/options.ts";
import { log } from "../lib/log.ts";
import { defineTool, READ_ONLY } from "../lib/tools/define.ts";
import { httpClient } from "./harness_http.ts";

const echoLog = defineTool({
  name: "test_echo_log",
  title: "Test: log a line",
  description: "Logs its word twice, with a pause between, and returns it.",
  annotations: READ_ONLY,
  input: { word: v.string() },
  output: { word: v.string() },
  run: async ({ word }) => {
    log("warning", `first ${word}`);
    await new Promise((r) => setTimeout(r, 20)); // interleave with the other calls
    log("warning", `second ${word}`);
    return { word };
  },
});

let http: HttpServer;
beforeAll(() => {
  const env = { TALOSCONFIG: "/nonexistent", TALOS_MCP_WARMUP: "false" };
  http = serveHttp(loadConfig(env), loadHttpOptions("127.0.0.1:0", env), env, [echoLog]);
});
afterAll(() => http?.shutdown());

test("each client gets the log lines of its own calls, on the call's stream, before the result", async () => {
  const words = ["alpha", "bravo", "charlie", "delta", "echo"];
  const clients = await Promise.all(words.map(() => httpClient(http.url)));
  const received = words.map(() => [] as string[]);
  clients.forEach((c, i) =>
    c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void received[i].push(String(n.params.data)))
  );
  try {
    const results = await Promise.all(
      clients.map(async (c, i) => {
        const r = (await c.callTool({ name: "test_echo_log", arguments: { word: words[i] } })) as CallToolResult;
        return { result: r.structuredContent, logsBefore: [...received[i]] };
      }),
    );
    results.forEach((r, i) => {
      expect(r.result).toEqual({ word: words[i] });
      // Each line names its caller (here: no token on loopback, so "anonymous").
      expect(r.logsBefore).toEqual([`caller=anonymous first ${words[i]}`, `caller=anonymous second ${words[i]}`]);
    });
    // A line logged outside any call reaches no client.
    log("warning", "outside any call");
    await Promise.all(clients.map((c) => c.ping()));
    expect(received.flat()).not.toContain("outside any call");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});
