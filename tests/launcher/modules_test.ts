/**
 * @module The launcher's pure parts (npm/lib, plain JS) in-process: asset
 * names per platform, cache directories per OS, proxy selection with
 * NO_PROXY, and checksums.txt parsing.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

// Imported by a computed path: npm/ is plain JS without type declarations.
const lib = (m: string) => import(join(import.meta.dir, "../../npm/lib", m));
const { assetName, cacheDir, SUPPORTED } = await lib("platform.js");
const { proxyFor } = await lib("http.js");
const { parseChecksums } = await lib("install.js");
const { PLATFORMS } = await import("../../scripts/platforms.ts");

describe("assetName", () => {
  test("matches the release's bare binaries for every supported platform", () => {
    const node = { linux: "linux", darwin: "darwin", windows: "win32" } as const;
    expect(SUPPORTED).toEqual(PLATFORMS.map((p) => p.id));
    for (const p of PLATFORMS) expect(assetName(node[p.os], p.nodeArch)).toBe(p.asset);
  });
  test("names the supported list and TALOS_MCP_BINARY for anything else", () => {
    expect(() => assetName("linux", "ia32")).toThrow(
      /no talos-mcp binary is released for linux\/ia32 .*TALOS_MCP_BINARY/,
    );
    expect(() => assetName("freebsd", "x64")).toThrow("released: linux-amd64, linux-arm64");
  });
});

describe("cacheDir", () => {
  test("follows each platform's user cache convention, per version", () => {
    const home = process.env.HOME ?? "";
    expect(cacheDir("1.2.3", {}, "linux")).toBe(join(home, ".cache/talos-mcp/1.2.3"));
    expect(cacheDir("1.2.3", { XDG_CACHE_HOME: "/xdg" }, "linux")).toBe("/xdg/talos-mcp/1.2.3");
    expect(cacheDir("1.2.3", {}, "darwin")).toBe(join(home, "Library/Caches/talos-mcp/1.2.3"));
    expect(cacheDir("1.2.3", { LOCALAPPDATA: "/lad" }, "win32")).toBe(join("/lad", "talos-mcp", "1.2.3"));
    expect(cacheDir("1.2.3", { TALOS_MCP_CACHE_DIR: "/c", XDG_CACHE_HOME: "/xdg" }, "linux")).toBe("/c/1.2.3");
  });
});

describe("proxyFor", () => {
  const url = "https://github.com/talos-mcp/talos-mcp/releases/download/v1/checksums.txt";
  test("HTTPS_PROXY (either case) for https, HTTP_PROXY for http, none when unset", () => {
    expect(proxyFor(url, {})).toBeNull();
    expect(proxyFor(url, { HTTPS_PROXY: "http://p:3128" })?.href).toBe("http://p:3128/");
    expect(proxyFor(url, { https_proxy: "p:3128" })?.href).toBe("http://p:3128/");
    expect(proxyFor(url, { HTTP_PROXY: "http://p:3128" })).toBeNull();
    expect(proxyFor("http://mirror.local/x", { HTTP_PROXY: "http://p:8080" })?.host).toBe("p:8080");
  });
  test("NO_PROXY: exact hosts, domain suffixes with or without a dot, ports, and *", () => {
    const env = (NO_PROXY: string) => ({ HTTPS_PROXY: "http://p:3128", NO_PROXY });
    expect(proxyFor(url, env("github.com"))).toBeNull();
    expect(proxyFor(url, env(".github.com"))).toBeNull(); // a leading dot matches the name itself too, as in curl
    expect(proxyFor("https://objects.github.com/x", env(".github.com"))).toBeNull();
    expect(proxyFor(url, env("example.com, .github.com"))).toBeNull();
    expect(proxyFor(url, env("hub.com"))).not.toBeNull(); // not a suffix on a label boundary
    expect(proxyFor(url, env("github.com:443"))).toBeNull();
    expect(proxyFor(url, env("github.com:8443"))).not.toBeNull();
    expect(proxyFor(url, env("*"))).toBeNull();
    expect(proxyFor("https://127.0.0.1:8443/x", env("127.0.0.1"))).toBeNull();
  });
});

test("parseChecksums reads sha256sum's text and binary markers, CRLF and junk lines", () => {
  const a = "a".repeat(64), b = "b".repeat(64);
  const sums = parseChecksums(`${a}  talos-mcp-linux-amd64\r\n${b} *talos-mcp-windows-amd64.exe\nnot a line\n`);
  expect([...sums]).toEqual([["talos-mcp-linux-amd64", a], ["talos-mcp-windows-amd64.exe", b]]);
});
