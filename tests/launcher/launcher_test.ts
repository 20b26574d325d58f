/**
 * @module The npm launcher (npm/), run under the system `node` against a fake
 * release on a loopback server: the trust chain (stamped digest →
 * checksums.txt → binary), what a failure leaves in the cache, racing first
 * runs, a warm cache offline, and stdout carrying only the server's output.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  checksumsFor,
  FAKE_BINARY,
  type FakeRelease,
  HOST_ASSET,
  removeStampedLaunchers,
  runNode,
  sha256,
  stampedLauncher,
  startRelease,
  VERSION,
} from "./fake_release.ts";

let release: FakeRelease;
let pkg: string;
let goodChecksums: Buffer;
let cache: string;
let launcher: string;

beforeAll(async () => {
  release = await startRelease();
  goodChecksums = release.files.get("checksums.txt")!;
  pkg = stampedLauncher(goodChecksums);
  launcher = join(pkg, "bin/talos-mcp.js");
});
afterAll(async () => {
  await release.close();
  removeStampedLaunchers();
});
afterEach(() => rmSync(cache, { recursive: true, force: true }));

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), "talos-mcp-cache-"));
  release.requests.length = 0;
  release.files.set(HOST_ASSET, FAKE_BINARY);
  release.files.set("checksums.txt", goodChecksums);
  release.truncate.clear();
  release.holdUntil = 0;
});

const env = (extra: Record<string, string> = {}) => ({
  HOME: cache,
  TALOS_MCP_CACHE_DIR: cache,
  TALOS_MCP_MIRROR: release.url,
  ...extra,
});
/** Every file under the cache, relative, to prove what a run left behind. */
const cached = () => readdirSync(cache, { recursive: true }).map(String).sort();
const FAKE_OUT = "fake-server args=[--flag value]\nhello over stdin\n";

describe("first run", () => {
  test("downloads, verifies, caches, then runs the binary with args, stdin, stdout and exit code passed through", async () => {
    const r = await runNode(launcher, ["--flag", "value"], env(), "hello over stdin\n");
    expect(r.stdout).toBe(FAKE_OUT); // nothing of the launcher's own on stdout
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `talos-mcp: first run of v${VERSION}: downloading ${HOST_ASSET} from ${release.url}/v${VERSION}/`,
    );
    expect(r.stderr).toContain(`talos-mcp: verified ${HOST_ASSET} v${VERSION} (sha256 ${sha256(FAKE_BINARY)})`);
    expect(r.stderr).toContain("fake-server stderr");
    expect(release.requests).toEqual([`/v${VERSION}/checksums.txt`, `/v${VERSION}/${HOST_ASSET}`]);
    expect(cached()).toEqual([VERSION, join(VERSION, HOST_ASSET)]);
    expect(readFileSync(join(cache, VERSION, HOST_ASSET))).toEqual(FAKE_BINARY);
  });

  test("a warm cache runs offline: no request, no download message", async () => {
    await runNode(launcher, ["install"], env());
    const offline = await runNode(
      launcher,
      ["--flag", "value"],
      env({ TALOS_MCP_MIRROR: "http://127.0.0.1:1" }),
      "hello over stdin\n",
    );
    expect(offline.stdout).toBe(FAKE_OUT);
    expect(offline.code).toBe(3);
    expect(offline.stderr).not.toContain("downloading");
    expect(release.requests.filter((p) => p.endsWith(HOST_ASSET))).toHaveLength(1); // the install only
  });

  test("`install` prefetches and reports on stderr only, without running the server", async () => {
    const r = await runNode(launcher, ["install"], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`ready: ${join(cache, VERSION, HOST_ASSET)}`);
    expect(r.stderr).not.toContain("fake-server");
    expect(cached()).toEqual([VERSION, join(VERSION, HOST_ASSET)]);
  });

  test("two concurrent first runs both succeed and leave one complete binary", async () => {
    release.holdUntil = 2; // both downloads are in flight before either gets a byte
    const [a, b] = await Promise.all([
      runNode(launcher, ["--flag", "value"], env(), "hello over stdin\n"),
      runNode(launcher, ["--flag", "value"], env(), "hello over stdin\n"),
    ]);
    for (const r of [a, b]) {
      expect(r.stdout).toBe(FAKE_OUT);
      expect(r.code).toBe(3);
    }
    expect(release.requests.filter((p) => p.endsWith(HOST_ASSET))).toHaveLength(2);
    expect(cached()).toEqual([VERSION, join(VERSION, HOST_ASSET)]);
    expect(sha256(readFileSync(join(cache, VERSION, HOST_ASSET)))).toBe(sha256(FAKE_BINARY));
  });
});

test("downloads left by killed runs are removed once an hour old; a concurrent run's is not", async () => {
  const dir = join(cache, VERSION);
  mkdirSync(dir);
  const stale = join(dir, `.${HOST_ASSET}.1.aaaaaaaaaaaa.partial`);
  const fresh = join(dir, `.${HOST_ASSET}.2.bbbbbbbbbbbb.partial`);
  writeFileSync(stale, "half");
  writeFileSync(fresh, "half");
  utimesSync(stale, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
  const r = await runNode(launcher, ["install"], env());
  expect(r.code).toBe(0);
  expect(cached()).toEqual([VERSION, join(VERSION, basename(fresh)), join(VERSION, HOST_ASSET)].sort());
});

describe("a failed download leaves nothing in the cache and says what failed", () => {
  async function failing(stderrParts: string[]) {
    const r = await runNode(launcher, ["--flag", "value"], env(), "hello over stdin\n");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    for (const part of stderrParts) expect(r.stderr).toContain(part);
    expect(r.stderr).toContain("Nothing was cached.");
    expect(r.stderr).not.toContain("fake-server");
    expect(cached().filter((f) => f !== VERSION)).toEqual([]);
    return r;
  }

  test("a tampered binary", async () => {
    const evil = Buffer.from("#!/bin/sh\necho pwned\n");
    release.files.set(HOST_ASSET, evil);
    await failing([`${HOST_ASSET} from`, `has sha256 ${sha256(evil)}`, `checksums.txt says ${sha256(FAKE_BINARY)}`]);
  });

  test("a tampered checksums file (matching the tampered binary) is refused before the binary is fetched", async () => {
    const evil = Buffer.from("#!/bin/sh\necho pwned\n");
    const evilSums = checksumsFor({ [HOST_ASSET]: evil });
    release.files.set(HOST_ASSET, evil);
    release.files.set("checksums.txt", evilSums);
    await failing([
      `checksums.txt from ${release.url}/v${VERSION}/ has sha256 ${sha256(evilSums)}`,
      sha256(goodChecksums),
    ]);
    expect(release.requests).toEqual([`/v${VERSION}/checksums.txt`]);
  });

  test("a release without this platform's binary (404)", async () => {
    release.files.delete(HOST_ASSET);
    await failing([`HTTP 404 for ${release.url}/v${VERSION}/${HOST_ASSET}`, `Is v${VERSION} published there?`]);
  });

  test("no release at all (404 on checksums.txt)", async () => {
    release.files.delete("checksums.txt");
    await failing([`HTTP 404 for ${release.url}/v${VERSION}/checksums.txt`, "TALOS_MCP_BINARY"]);
    expect(release.requests).toEqual([`/v${VERSION}/checksums.txt`]);
  });

  test("a download cut short", async () => {
    release.files.set(HOST_ASSET, Buffer.concat([FAKE_BINARY, Buffer.alloc(256 * 1024, 7)]));
    release.files.set("checksums.txt", goodChecksums);
    release.truncate.add(HOST_ASSET);
    const r = await failing([`download of ${release.url}/v${VERSION}/${HOST_ASSET}`]);
    expect(r.stderr).toMatch(/(connection closed after|cut short: got) \d+ of \d+ bytes\. Nothing/);
  });

  test("a server that is down", async () => {
    const r = await runNode(launcher, [], env({ TALOS_MCP_MIRROR: "http://127.0.0.1:1" }));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("ECONNREFUSED");
    expect(r.stderr).toContain("Nothing was cached.");
    expect(cached()).toEqual([]);
  });
});

describe("settings", () => {
  test("TALOS_MCP_BINARY runs a local binary without any download", async () => {
    const local = join(cache, "my-talos-mcp");
    writeFileSync(local, FAKE_BINARY, { mode: 0o755 });
    const r = await runNode(launcher, ["--flag", "value"], env({ TALOS_MCP_BINARY: local }), "hello over stdin\n");
    expect(r.stdout).toBe(FAKE_OUT);
    expect(release.requests).toEqual([]);
    const missing = await runNode(launcher, [], env({ TALOS_MCP_BINARY: join(cache, "nope") }));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`TALOS_MCP_BINARY=${join(cache, "nope")} is not a file`);
  });

  test("an unstamped package refuses to download unverified", async () => {
    const unstamped = join(import.meta.dir, "../../npm/bin/talos-mcp.js");
    const r = await runNode(unstamped, [], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("was not stamped with a release");
    expect(release.requests).toEqual([]);
    expect(existsSync(join(cache, "null"))).toBe(false);
  });

  test("a cache directory that cannot be created is named, with the setting to change", async () => {
    const file = join(cache, "a-file");
    writeFileSync(file, "");
    const r = await runNode(launcher, [], env({ TALOS_MCP_CACHE_DIR: join(file, "sub") }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ENOTDIR`);
    expect(r.stderr).toContain("Set TALOS_MCP_CACHE_DIR to a writable directory");
  });

  test("a bad timeout setting is named", async () => {
    const r = await runNode(launcher, [], env({ TALOS_MCP_DOWNLOAD_TIMEOUT_MS: "soon" }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("TALOS_MCP_DOWNLOAD_TIMEOUT_MS=soon is not a positive whole number");
  });
});

describe("HTTPS_PROXY", () => {
  test("downloads over HTTPS through an authenticating CONNECT proxy; NO_PROXY bypasses it", async () => {
    const { startProxiedRelease } = await import("./proxy.ts");
    const proxied = await startProxiedRelease(VERSION, release.files);
    try {
      const caFile = join(cache, "ca.pem");
      writeFileSync(caFile, proxied.caPem);
      const viaProxy = env({
        TALOS_MCP_MIRROR: proxied.url,
        HTTPS_PROXY: proxied.proxyUrl,
        NODE_EXTRA_CA_CERTS: caFile,
      });
      const r = await runNode(launcher, ["--flag", "value"], viaProxy, "hello over stdin\n");
      expect(r.stderr).not.toContain("Nothing was cached");
      expect(r.stdout).toBe(FAKE_OUT);
      const target = proxied.url.replace("https://", "");
      expect(proxied.connects).toEqual([{ target, allowed: true }, { target, allowed: true }]);

      // NO_PROXY: the launcher goes direct, and release.test does not resolve.
      rmSync(join(cache, VERSION), { recursive: true });
      const direct = await runNode(launcher, [], { ...viaProxy, NO_PROXY: "localhost,.test" });
      expect(direct.code).toBe(1);
      expect(direct.stderr).toMatch(/ENOTFOUND|EAI_AGAIN/);
      expect(proxied.connects).toHaveLength(2);

      // Wrong proxy credentials: the proxy's refusal is reported.
      const denied = await runNode(launcher, [], {
        ...viaProxy,
        HTTPS_PROXY: proxied.proxyUrl.replace("p%40ss", "nope"),
      });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain(`refused CONNECT to ${target}: HTTP 407`);
      expect(cached().filter((f) => f !== VERSION && f !== "ca.pem")).toEqual([]);
    } finally {
      await proxied.close();
    }
  });
});
