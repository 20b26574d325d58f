/** @module The maintenance-mode and META settings: what the server refuses to start with, and how keys and endpoints parse. */
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig, parseMetaKey } from "../../lib/config.ts";
import { normalizeFingerprint, parseEndpoint } from "../../lib/talos/insecure_target.ts";

describe("TALOS_MCP_INSECURE_ALLOWED_NODES", () => {
  test.each([
    ["10.5.0.0/23", "is wider than /24"],
    ["fd00::/48", "is wider than /64"],
    ["node-1.example.com", "is not an IP or CIDR"],
    ["10.5.0.300", "is not an IP or CIDR"],
    ["10.5.0.0/33", "is not a CIDR"],
  ])("%s refuses to start", (value, message) => {
    expect(() => loadConfig({ TALOS_MCP_INSECURE_ALLOWED_NODES: value })).toThrow(message);
  });

  test("IPs, /24 and /64 are accepted", () => {
    const c = loadConfig({
      TALOS_MCP_ENABLE_INSECURE: "true",
      TALOS_MCP_INSECURE_ALLOWED_NODES: "10.5.0.9, 10.6.0.0/24, fd00::/64",
    });
    expect(c.insecureAllowedNodes).toEqual(["10.5.0.9", "10.6.0.0/24", "fd00::/64"]);
    expect(c.enableInsecure).toBe(true);
  });

  test("TALOS_MCP_ENABLE_INSECURE without the allowlist refuses to start", () => {
    expect(() => loadConfig({ TALOS_MCP_ENABLE_INSECURE: "true" })).toThrow(ConfigError);
    expect(loadConfig({}).enableInsecure).toBe(false);
  });
});

describe("META keys", () => {
  test.each([["12", 12], ["0x0c", 12], ["0X0F", 15], ["255", 255], ["0", 0]])("%s is key %d", (raw, key) => {
    expect(parseMetaKey(raw)).toBe(key);
  });
  test.each(["256", "0x100", "-1", "1.5", "", "twelve"])("%p is not a key", (raw) => {
    expect(parseMetaKey(raw)).toBeUndefined();
  });
  test("TALOS_MCP_META_PRIVILEGED_KEYS parses both forms and refuses a bad one", () => {
    expect(loadConfig({ TALOS_MCP_META_PRIVILEGED_KEYS: "0x0a, 15" }).metaPrivilegedKeys).toEqual([10, 15]);
    expect(() => loadConfig({ TALOS_MCP_META_PRIVILEGED_KEYS: "300" })).toThrow("is not a META key");
  });
});

describe("endpoints and fingerprints", () => {
  test.each([
    ["10.5.0.9", { host: "10.5.0.9", port: 50000 }],
    ["10.5.0.9:40000", { host: "10.5.0.9", port: 40000 }],
    ["[fd00::9]:50001", { host: "fd00::9", port: 50001 }],
    ["fd00::9", { host: "fd00::9", port: 50000 }],
    ["node-1:50000", undefined],
    ["10.5.0.9:0", undefined],
    ["10.5.0.9:70000", undefined],
  ])("%s", (raw, want) => {
    expect(parseEndpoint(raw)).toEqual(want);
  });
  test("fingerprints: hex, any case, colons, sha256: prefix", () => {
    const hex = "ab".repeat(32);
    expect(normalizeFingerprint(`SHA256:${hex.toUpperCase().match(/../g)!.join(":")}`)).toBe(hex);
    expect(normalizeFingerprint("ab".repeat(31))).toBeUndefined();
  });
});
