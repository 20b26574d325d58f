import { describe, expect, test } from "bun:test";
import { maskText, maskValue } from "../../lib/secrets.ts";

const PEM_KEY = "-----BEGIN ED25519 PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGl7\n-----END ED25519 PRIVATE KEY-----";
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("maskValue", () => {
  test("machine config secrets are masked, public material kept", () => {
    const cfg = {
      machine: {
        token: "abc123.0123456789abcdef",
        ca: { crt: b64("-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----"), key: b64(PEM_KEY) },
      },
      cluster: {
        secret: "c2VjcmV0",
        token: "xyz789.fedcba9876543210",
        aescbcEncryptionSecret: "k1",
        secretboxEncryptionSecret: "k2",
        serviceAccount: { key: b64(PEM_KEY) },
        clusterName: "prod",
      },
      machineRegistries: { config: { "r.io": { auth: { password: "hunter2", auth: "dXNlcjpwYXNz" } } } },
    };
    const m = maskValue(cfg);
    expect(m.machine.token).toBe("<masked: token>");
    expect(m.machine.ca.key).toBe("<masked: private key>");
    expect(m.machine.ca.crt).toBe(cfg.machine.ca.crt);
    expect(m.cluster.secret).toBe("<masked: secret>");
    expect(m.cluster.aescbcEncryptionSecret).toBe("<masked: aescbcEncryptionSecret>");
    expect(m.cluster.secretboxEncryptionSecret).toBe("<masked: secretboxEncryptionSecret>");
    expect(m.cluster.serviceAccount.key).toBe("<masked: private key>");
    expect(m.cluster.clusterName).toBe("prod");
    expect(m.machineRegistries.config["r.io"].auth.password).toBe("<masked: password>");
    expect(m.machineRegistries.config["r.io"].auth.auth).toBe("<masked: auth>");
    expect(JSON.stringify(m)).not.toContain("hunter2");
  });
});

describe("maskText", () => {
  test.each([
    [`key:\n${PEM_KEY}\n`, "PRIVATE KEY-----\nMC4"],
    ["kubelet: using bootstrap token abcdef.0123456789abcdef", "abcdef.0123456789abcdef"],
    ["Authorization: Bearer eyJhbGciOiJSUzI1NiIs.eyJpc3MiOiJrdWJlcm5ldGVz.c2lnbmF0dXJlc2lnbg", "eyJhbGciOiJSUzI1NiIs"],
    ["--password=hunter2 --user=me", "hunter2"],
    ['token: "s3cr3tvalue"', "s3cr3tvalue"],
  ])("%s", (input, secret) => {
    const out = maskText(input);
    expect(out).not.toContain(secret);
    expect(out).toContain("<masked:");
  });

  test("ordinary text is left alone", () => {
    const line = "2026-11-22T00:00:00Z kubelet started, version v1.34.1, node sim-cp-1";
    expect(maskText(line)).toBe(line);
  });
});
