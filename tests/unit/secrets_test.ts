/** @module Secret masking, table-driven: values, text, command and log lines, whole files. */
import { describe, expect, test } from "bun:test";
import { isSecretPath, maskFile, maskText, maskValue } from "../../lib/secrets.ts";

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

describe("maskText: command lines and log lines", () => {
  test.each([
    ["/usr/bin/agent --api-token=tk_live_9f8e7d6c5b4a --v=2", "tk_live_9f8e7d6c5b4a"],
    ["--s3-endpoint=https://backup:Sup3rS3cretPw@s3.example.com", "Sup3rS3cretPw"],
    ["client --client-secret s3cr3t-value", "s3cr3t-value"],
    ['headers="Authorization: Basic dXNlcjpodW50ZXIy"', "dXNlcjpodW50ZXIy"],
    ["AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI"],
  ])("%s", (input, secret) => {
    expect(maskText(input)).not.toContain(secret);
  });

  test("masking twice changes nothing more (the server masks again after the tools)", () => {
    for (const s of ["password=hunter22 token: abcdefgh", "Bearer abcdefghijk", `x ${PEM_KEY}`]) {
      expect(maskText(maskText(s))).toBe(maskText(s));
    }
  });

  test("paths and flags that name key files are not secrets", () => {
    const line = "--service-account-key-file=/system/secrets/kubernetes/sa.pub --kubeconfig=/etc/kubernetes/kubeconfig";
    expect(maskText(line)).toBe(line);
  });
});

describe("maskFile", () => {
  const CERT = "-----BEGIN CERTIFICATE-----\nMIIBPzCB8qADAgECAhEA\n-----END CERTIFICATE-----\n";

  test("a key file under a secret directory is masked whole", () => {
    const out = maskFile(
      "/system/secrets/etcd/peer.key",
      "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n-----END EC PRIVATE KEY-----\n",
    );
    expect(out).not.toContain("MHcCAQEEI");
    expect(out).toMatch(/^<masked: \/system\/secrets\/etcd\/peer.key/);
  });

  test("certificate plus key (kubelet-client-current.pem): the certificate stays, the key goes", () => {
    const out = maskFile("/var/lib/kubelet/pki/kubelet-client-current.pem", CERT + PEM_KEY + "\n");
    expect(out).toContain(CERT);
    expect(out).not.toContain("MC4CAQAwBQYDK2VwBCIEIGl7");
  });

  test("a certificate alone under a secret directory is shown (it is public)", () => {
    expect(maskFile("/etc/kubernetes/pki/ca.crt", CERT)).toBe(CERT);
  });

  test("anything else under a secret directory is masked, also without a PEM header", () => {
    for (
      const path of ["/system/state/config.yaml", "/var/lib/etcd/member/snap/db", "/var/lib/kubelet/pki/kubelet.key"]
    ) {
      expect(maskFile(path, "cluster:\n  secret: plain\n")).not.toContain("plain");
    }
  });

  test("key files elsewhere are masked by name", () => {
    expect(isSecretPath("/opt/app/tls.key")).toBe(true);
    expect(isSecretPath("/etc/ssl/server-key.pem")).toBe(true);
    expect(isSecretPath("/etc/hosts")).toBe(false);
    expect(isSecretPath("/etc/kubernetes/pkix/x")).toBe(false);
  });

  test("a kubeconfig outside secret directories: tokens and embedded keys masked, the rest kept", () => {
    const kubeconfig = `users:\n- name: kubelet\n  user:\n    token: abcdef.0123456789abcdef\n` +
      `    client-key-data: ${b64(PEM_KEY)}\n    client-certificate-data: ${b64(CERT)}\n`;
    const out = maskFile("/etc/kubernetes/kubeconfig-kubelet", kubeconfig);
    expect(out).not.toContain("0123456789abcdef");
    expect(out).not.toContain(b64(PEM_KEY).slice(0, 40));
    expect(out).toContain(b64(CERT));
    expect(out).toContain("name: kubelet");
  });

  test("a process environment keeps names, loses values", () => {
    const out = maskFile("/proc/1200/environ", "PATH=/bin\0DB_PASSWORD=hunter2\0HOME=/root");
    expect(out).toBe("PATH=<masked: value>\0DB_PASSWORD=<masked: value>\0HOME=<masked: value>");
  });
});
