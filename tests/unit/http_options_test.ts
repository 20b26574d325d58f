/** @module HTTP settings and access checks: listen addresses, loopback, token rules, Host/Origin, bearer. */
import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../lib/config.ts";
import { bearerMatches, hostName, refuseHostOrOrigin } from "../../lib/http/access.ts";
import { isLoopback, loadHttpOptions, parseListenAddr } from "../../lib/http/options.ts";

const TOKEN = "0123456789abcdef0123";

describe("parseListenAddr", () => {
  test.each([
    ["127.0.0.1:8080", "127.0.0.1", 8080],
    ["[::1]:8080", "::1", 8080],
    ["localhost:0", "localhost", 0],
    [":8080", "0.0.0.0", 8080],
    ["8080", "0.0.0.0", 8080],
    ["0.0.0.0:80", "0.0.0.0", 80],
  ])("%s", (raw, host, port) => expect(parseListenAddr(raw)).toEqual({ host, port }));

  test.each(["", "127.0.0.1", "127.0.0.1:99999", "::1:8080", "host:port", "a b:1"])("%p is refused", (raw) => {
    expect(() => parseListenAddr(raw)).toThrow(ConfigError);
  });
});

test.each([
  ["127.0.0.1", true],
  ["127.5.6.7", true],
  ["::1", true],
  ["[::1]", true],
  ["localhost", true],
  ["0.0.0.0", false],
  ["::", false],
  ["10.0.0.1", false],
  ["127.0.0.1.nip.io", false],
])("isLoopback(%s) = %p", (host, want) => expect(isLoopback(host)).toBe(want));

describe("loadHttpOptions", () => {
  test("loopback without a token: allowed, Host limited to loopback names", () => {
    const o = loadHttpOptions("127.0.0.1:8080", {});
    expect(o).toMatchObject({ loopback: true, token: undefined, allowedHosts: ["localhost", "127.0.0.1", "::1"] });
  });

  test("non-loopback without a token is refused, naming both ways out", () => {
    expect(() => loadHttpOptions("0.0.0.0:8080", {})).toThrow(/TALOS_MCP_AUTH_TOKEN.*127\.0\.0\.1/);
  });

  test("non-loopback with a token: any Host unless an allowlist is set", () => {
    expect(loadHttpOptions(":8080", { TALOS_MCP_AUTH_TOKEN: TOKEN }).allowedHosts).toEqual([]);
    const o = loadHttpOptions(":8080", { TALOS_MCP_AUTH_TOKEN: TOKEN, TALOS_MCP_ALLOWED_HOSTS: "MCP.example.com, x" });
    expect(o.allowedHosts).toEqual(["mcp.example.com", "x"]);
  });

  test("TALOS_MCP_HTTP_ADDR is used when there is no flag; the flag wins", () => {
    expect(loadHttpOptions(undefined, { TALOS_MCP_HTTP_ADDR: "127.0.0.1:9" }).port).toBe(9);
    expect(loadHttpOptions("127.0.0.1:10", { TALOS_MCP_HTTP_ADDR: "127.0.0.1:9" }).port).toBe(10);
  });

  test.each([
    [{ TALOS_MCP_AUTH_TOKEN: "short" }, /at least 16/],
    [{ TALOS_MCP_AUTH_TOKEN: TOKEN, TALOS_MCP_AUTH_TOKEN_FILE: "/x" }, /not both/],
    [{ TALOS_MCP_AUTH_TOKEN_FILE: "/nonexistent/token" }, /cannot be read/],
    [{ TALOS_MCP_HTTP_MAX_BODY: "12" }, /TALOS_MCP_HTTP_MAX_BODY=12/],
    [{ TALOS_MCP_HTTP_MAX_INFLIGHT: "0" }, /TALOS_MCP_HTTP_MAX_INFLIGHT/],
    [{ TALOS_MCP_HTTP_CALL_DEADLINE_MS: "soon" }, /TALOS_MCP_HTTP_CALL_DEADLINE_MS/],
  ])("bad setting %p", (env, message) => {
    expect(() => loadHttpOptions("127.0.0.1:1", env as Record<string, string>)).toThrow(message);
  });
});

describe("Host and Origin", () => {
  const loop = ["localhost", "127.0.0.1", "::1"];
  test.each([
    ["127.0.0.1:8080", null, undefined],
    ["localhost", "http://localhost:5173", undefined],
    ["[::1]:8080", "http://[::1]:8080", undefined],
    ["evil.example.com:8080", null, "Host"],
    [null, null, "Host"],
    ["127.0.0.1:8080", "http://evil.example.com", "Origin"],
    ["127.0.0.1:8080", "null", "Origin"],
  ])("Host %p Origin %p", (host, origin, refusedFor) => {
    const why = refuseHostOrOrigin(host, origin, loop, []);
    if (refusedFor === undefined) expect(why).toBeUndefined();
    else expect(why).toStartWith(refusedFor);
  });

  test("configured origins replace the loopback default; * allows any", () => {
    expect(refuseHostOrOrigin("h", "https://ui.example.com", [], ["https://ui.example.com"])).toBeUndefined();
    expect(refuseHostOrOrigin("h", "http://localhost", [], ["https://ui.example.com"])).toContain("Origin");
    expect(refuseHostOrOrigin("h", "https://any.example", [], ["*"])).toBeUndefined();
  });

  test("hostName strips port and brackets", () => {
    expect(hostName("[::1]:80")).toBe("::1");
    expect(hostName("Example.COM:443")).toBe("example.com");
    expect(hostName("::1")).toBe("::1");
  });
});

test.each([
  [`Bearer ${TOKEN}`, true],
  [`bearer ${TOKEN}`, true],
  [`Bearer  ${TOKEN} `, true],
  [`Bearer ${TOKEN}x`, false],
  [`Bearer ${TOKEN.slice(1)}`, false],
  [`Basic ${TOKEN}`, false],
  [TOKEN, false],
  ["Bearer", false],
  ["", false],
  [null, false],
])("bearerMatches(%p) = %p", (header, want) => expect(bearerMatches(header, TOKEN)).toBe(want));
