/** @module talosconfig handling, pure: endpoint normalisation, lookup paths, keys, context resolution. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import {
  candidatePaths,
  certInfo,
  endpointHost,
  fixKeyLabel,
  normaliseEndpoint,
  readTalosconfig,
  resolveContext,
} from "../../lib/talos/talosconfig.ts";
import { issue } from "../../lib/sim/x509.ts";

describe("normaliseEndpoint (talosctl's rules)", () => {
  test.each([
    ["10.0.0.1", "10.0.0.1:50000"],
    ["10.0.0.1:50001", "10.0.0.1:50001"],
    ["cp.example.com", "cp.example.com:50000"],
    ["https://omni.example.com", "omni.example.com:443"],
    ["https://omni.example.com:8443/path", "omni.example.com:8443"],
    ["tcp://10.0.0.1:50000", "10.0.0.1:50000"],
    ["fd00::1", "[fd00::1]:50000"],
    ["[fd00::1]", "[fd00::1]:50000"],
    ["[fd00::1]:50001", "[fd00::1]:50001"],
    [" 10.0.0.1 ", "10.0.0.1:50000"],
  ])("%s → %s", (raw, want) => expect(normaliseEndpoint(raw)).toBe(want));

  test.each([
    ["10.0.0.1:50000", "10.0.0.1"],
    ["[fd00::1]:50000", "fd00::1"],
    ["cp.example.com:443", "cp.example.com"],
  ])("host of %s is %s", (ep, host) => expect(endpointHost(ep)).toBe(host));
});

describe("candidate paths", () => {
  test("TALOSCONFIG, then TALOS_HOME (absolute only) or ~/.talos, then the pod mount", () => {
    expect(candidatePaths({ TALOSCONFIG: "/a/b", HOME: "/h" })).toEqual([
      "/a/b",
      "/h/.talos/config",
      "/var/run/secrets/talos.dev/config",
    ]);
    expect(candidatePaths({ TALOS_HOME: "/t", HOME: "/h" })[0]).toBe("/t/config");
    expect(candidatePaths({ TALOS_HOME: "relative", HOME: "/h" })[0]).toBe("/h/.talos/config");
  });
});

describe("keys and certificates", () => {
  test("the Ed25519 label Talos writes is rewritten for OpenSSL", () => {
    const pem = "-----BEGIN ED25519 PRIVATE KEY-----\nAAAA\n-----END ED25519 PRIVATE KEY-----\n";
    expect(fixKeyLabel(pem)).toBe("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    const ec = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    expect(fixKeyLabel(ec)).toBe(ec);
  });

  test("roles are the certificate's Organization values", () => {
    const ca = issue({ commonName: "talos", organizations: ["talos"], isCa: true });
    const c = issue({ commonName: "x", organizations: ["os:reader", "os:etcd:backup"], usage: "client" }, ca);
    expect(certInfo(c.certPem).roles.sort()).toEqual(["os:etcd:backup", "os:reader"]);
  });
});

describe("resolveContext", () => {
  const ca = issue({ commonName: "talos", organizations: ["talos"], isCa: true });
  const client = issue({ commonName: "admin", organizations: ["os:admin"], usage: "client" }, ca);
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const dir = mkdtempSync(join(tmpdir(), "tc-"));
  const path = join(dir, "config");
  writeFileSync(
    path,
    stringify({
      context: "a",
      contexts: {
        a: {
          endpoints: ["10.0.0.1"],
          nodes: ["10.0.0.2"],
          ca: b64(ca.certPem),
          crt: b64(client.certPem),
          key: b64(client.keyPem),
        },
        b: { endpoints: [], ca: b64(ca.certPem), crt: b64(client.certPem), key: b64(client.keyPem) },
        omni: { endpoints: ["https://x"], auth: { siderov1: { identity: "me" } } },
      },
    }),
  );
  const file = readTalosconfig(path);

  test("current context, Ed25519 key usable, endpoints normalised", () => {
    const ctx = resolveContext(file, undefined, {});
    expect(ctx.name).toBe("a");
    expect(ctx.endpoints).toEqual(["10.0.0.1:50000"]);
    expect(ctx.keyPem).toContain("BEGIN PRIVATE KEY");
    expect(ctx.cert.roles).toEqual(["os:admin"]);
  });

  test("TALOS_CONTEXT and TALOS_ENDPOINTS override", () => {
    const ctx = resolveContext(file, undefined, { TALOS_CONTEXT: "b", TALOS_ENDPOINTS: "10.0.0.9, 10.0.0.8:1" });
    expect(ctx.name).toBe("b");
    expect(ctx.endpoints).toEqual(["10.0.0.9:50000", "10.0.0.8:1"]);
  });

  test("no endpoints, SideroV1 auth and unknown names are explained", () => {
    expect(() => resolveContext(file, "b", {})).toThrow(/has no endpoints/);
    expect(() => resolveContext(file, "omni", {})).toThrow(/SideroV1/);
    expect(() => resolveContext(file, "zzz", {})).toThrow(/available: a, b, omni/);
  });
});
