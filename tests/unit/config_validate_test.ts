/**
 * @module The machine-config validator (lib/talos/config_validate.ts), table-driven: the
 * simulator's configs are valid in every mode, each broken config gives exactly its one issue
 * with document, path and line, and no value from the input comes back in a message.
 */
import { describe, expect, test } from "bun:test";
import { clusterSecrets, machineConfig } from "../../lib/sim/machine_config.ts";
import { type Issue, validateMachineConfig } from "../../lib/talos/config_validate.ts";
import { BROKEN_CASES, docsOf, type Expected, MODE_CASES, PLANTED_SECRET, textOf } from "../validate_cases.ts";

const secrets = clusterSecrets("unit");
const controlPlane = machineConfig({ hostname: "cp-1", role: "controlplane", ip: "10.5.0.2" }, secrets);
const worker = machineConfig({ hostname: "worker-1", role: "worker", ip: "10.5.0.3" }, secrets);
const metal = { mode: "metal", strict: false } as const;

function expectIssues(actual: Issue[], expected: Expected[]) {
  expect(actual.map(({ document, kind, path }) => ({ document, kind, path })))
    .toEqual(expected.map(({ document, kind, path }) => ({ document, kind, path })));
  actual.forEach((issue, i) => expect(issue.message).toContain(expected[i].says));
}

describe("validateMachineConfig", () => {
  test("the simulator's control-plane and worker configs are valid, strict, in every mode", () => {
    for (const config of [controlPlane, worker]) {
      for (const mode of ["metal", "cloud", "container"] as const) {
        expect(validateMachineConfig(config, { mode, strict: true })).toEqual({
          valid: true,
          errors: [],
          warnings: [],
        });
      }
    }
  });

  for (const c of BROKEN_CASES) {
    test(`${c.name}: exactly the expected issue`, () => {
      const text = c.make(controlPlane);
      const r = validateMachineConfig(text, { mode: c.mode ?? "metal", strict: c.strict ?? false });
      expectIssues(r.errors, c.errors);
      expectIssues(r.warnings, c.warnings);
      expect(r.valid).toBe(c.errors.length === 0);
      for (const issue of [...r.errors, ...r.warnings]) expect(issue.line).toBeGreaterThan(0);
    });
  }

  test("no install disk is fine in cloud and container mode", () => {
    const docs = docsOf(controlPlane);
    delete docs[0].machine.install;
    for (const mode of MODE_CASES) expect(validateMachineConfig(textOf(docs), { mode, strict: true }).valid).toBe(true);
  });

  test("lines point at the field: an unknown field's line is where it is written", () => {
    const text = "version: v1alpha1\nmachine:\n  type: worker\n  install:\n    disk: /dev/sda\n    dsik: x\n" +
      "cluster:\n  controlPlane:\n    endpoint: https://10.5.0.2:6443\n";
    const r = validateMachineConfig(text, metal);
    expect(r.errors).toEqual([{
      document: 0,
      kind: "v1alpha1",
      path: "machine.install.dsik",
      line: 6,
      message: "is not a known field; did you mean disk?",
    }]);
  });

  test("a YAML syntax error names its line and does not quote the input", () => {
    // A key written twice: Talos' YAML decoder rejects it too, rather than keeping the last.
    const text = `version: v1alpha1\nmachine:\n  token: ${PLANTED_SECRET}\n  token: other\n`;
    expect(validateMachineConfig(text, metal)).toEqual({
      valid: false,
      errors: [{ document: 0, kind: "", path: "", line: 4, message: "YAML syntax: Map keys must be unique" }],
      warnings: [],
    });
    const unclosed = validateMachineConfig(
      `version: v1alpha1\nmachine:\n  token: ${PLANTED_SECRET}\n  type: [w\n`,
      metal,
    );
    expect(unclosed.errors.map((e) => e.message)).toEqual([
      "YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ]);
    expect(JSON.stringify(unclosed)).not.toContain(PLANTED_SECRET);
  });

  test("no value of the input appears in any message: secrets stay out", () => {
    const docs = docsOf(controlPlane);
    docs[0].machine.token = 42; // wrong type: the message names the type, not the value
    docs[0].cluster.secret = ["not", "a", "string"];
    docs[0].cluster.controlPlane.endpoint = `http://user:${PLANTED_SECRET}@10.5.0.2`;
    docs[0].machine.ca.key = Buffer.from(`-----BEGIN PRIVATE KEY-----\n${PLANTED_SECRET}\n-----END PRIVATE KEY-----\n`)
      .toString("base64");
    docs[0].machine.tokne = PLANTED_SECRET;
    const r = validateMachineConfig(textOf(docs), metal);
    expect(r.errors.map((e) => e.path)).toEqual([
      "machine.token",
      "machine.ca.key",
      "machine.tokne",
      "cluster.secret",
      "cluster.controlPlane.endpoint",
    ]);
    const out = JSON.stringify(r);
    expect(out).not.toContain(PLANTED_SECRET);
    expect(out).not.toContain(docs[0].machine.ca.key);
    expect(out).not.toContain(Buffer.from(PLANTED_SECRET).toString("base64").slice(0, 12));
  });

  test("documents: neither version nor kind, wrong apiVersion, not a mapping, empty ones skipped", () => {
    const r = validateMachineConfig(
      `${controlPlane}---\nfoo: bar\n---\napiVersion: v2\nkind: HostnameConfig\n---\n- a list\n---\n`,
      metal,
    );
    expect(r.errors.map(({ document, path, message }) => ({ document, path, message }))).toEqual([
      {
        document: 2,
        path: "",
        message: "a document needs either version: v1alpha1 (the main config) or apiVersion: v1alpha1 with a kind",
      },
      { document: 3, path: "apiVersion", message: "must be v1alpha1" },
      {
        document: 4,
        path: "",
        message: "a document must be a mapping (key: value), e.g. the v1alpha1 config or a HostnameConfig",
      },
    ]);
  });

  test("missing endpoint, and required fields of a kind", () => {
    const docs = docsOf(controlPlane);
    delete docs[0].cluster.controlPlane;
    docs.push({ apiVersion: "v1alpha1", kind: "KubeNetworkConfig", podSubnets: ["10.244.0.0/16"] });
    const r = validateMachineConfig(textOf(docs), metal);
    expect(r.errors.map(({ document, path, message }) => ({ document, path, message }))).toEqual([
      {
        document: 0,
        path: "cluster.controlPlane.endpoint",
        message: "is required: the Kubernetes API endpoint, e.g. https://10.5.0.2:6443 or https://api.example:6443",
      },
      { document: 2, path: "serviceSubnets", message: "is required" },
    ]);
  });

  test("an endpoint from a KubeClusterConfig document counts, and is checked the same way", () => {
    const docs = docsOf(controlPlane);
    delete docs[0].cluster.controlPlane;
    docs.push({ apiVersion: "v1alpha1", kind: "KubeClusterConfig", clusterName: "c", endpoint: "https://api.example" });
    const r = validateMachineConfig(textOf(docs), metal);
    expect(r.errors.map(({ document, path, message }) => ({ document, path, message }))).toEqual([
      { document: 2, path: "endpoint", message: "has no port; add the API server port, e.g. https://10.5.0.2:6443" },
    ]);
  });

  test("deprecated machine types warn; strict makes them errors", () => {
    const docs = docsOf(worker);
    docs[0].machine.type = "join";
    const loose = validateMachineConfig(textOf(docs), metal);
    expect(loose.valid).toBe(true);
    expect(loose.warnings.map((w) => [w.path, w.message])).toEqual([[
      "machine.type",
      "join is deprecated: use worker",
    ]]);
    const strict = validateMachineConfig(textOf(docs), { mode: "metal", strict: true });
    expect(strict.valid).toBe(false);
    expect(strict.warnings).toEqual([]);
    expect(strict.errors.map((e) => e.message)).toEqual(["join is deprecated: use worker (strict)"]);
  });

  test("duplicate named documents are told apart by name", () => {
    const link = (name: string) => `apiVersion: v1alpha1\nkind: LinkConfig\nname: ${name}\n`;
    const ok = validateMachineConfig(`${controlPlane}---\n${link("eth0")}---\n${link("eth1")}`, metal);
    expect(ok.errors).toEqual([]);
    const dup = validateMachineConfig(`${controlPlane}---\n${link("eth0")}---\n${link("eth0")}`, metal);
    expect(dup.errors.map((e) => [e.document, e.message])).toEqual([
      [3, 'duplicate document: LinkConfig named "eth0" is already document 2; merge them into one'],
    ]);
  });

  test("issues are capped, and the cut is counted", () => {
    const docs = docsOf(controlPlane);
    for (let i = 0; i < 250; i++) docs[0].machine[`unknown${i}`] = 1;
    const r = validateMachineConfig(textOf(docs), metal);
    expect(r.errors.length).toBe(200);
    expect(r.omitted).toBe(50);
  });

  test("JSON input is read like YAML", () => {
    const docs = docsOf(controlPlane);
    const json = docs.map((d) => JSON.stringify(d)).join("\n---\n");
    expect(validateMachineConfig(json, { mode: "metal", strict: true }).valid).toBe(true);
  });
});
