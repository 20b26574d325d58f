/**
 * @module talos_patch_config through the compiled binary: patches applied
 * client-side, compared before anything is sent, then ApplyConfiguration with
 * an explicit mode; dry runs return the node's diff.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseAllDocuments, stringify } from "yaml";
import { entry, failed, type Harness, ok, spawnHarness } from "../harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await spawnHarness({ sim: { controlPlanes: 1, workers: 2, version: ["v1.13.9", "v1.13.9", "v1.14.1"] } });
});
afterAll(() => h?.close());

const CP = "10.5.0.2";
const W = "10.5.0.3";
const W14 = "10.5.0.4";
const docsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS());
const lastApply = () => h.sim.callsTo("ApplyConfiguration").at(-1)!;
const sentDocs = () => docsOf(Buffer.from((lastApply().request as { data: Uint8Array }).data).toString());
const applies = () => h.sim.callsTo("ApplyConfiguration").length;

describe("talos_patch_config", () => {
  test("a merge patch dry run sends the full patched config with dry_run and an explicit mode, and returns the diff", async () => {
    const before = h.sim.cluster.find(W)!.machineConfig;
    const r = ok(
      await h.call("talos_patch_config", {
        nodes: [W],
        patch: "machine:\n  kubelet:\n    image: ghcr.io/siderolabs/kubelet:v1.34.2\n  certSANs: [web-1.example.com]\n",
      }),
    );
    const e = entry(r, W);
    expect(e).toMatchObject({ changed: true, patch_kind: "merge", mode: "NO_REBOOT" });
    expect(e.details).toStartWith("Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).");
    expect(e.details).toContain("-    image: ghcr.io/siderolabs/kubelet:v1.34.1");
    expect(e.details).toContain("+    image: ghcr.io/siderolabs/kubelet:v1.34.2");
    expect(e.details).toContain("+    - web-1.example.com");
    expect(lastApply().request).toMatchObject({ mode: "AUTO", dry_run: true });
    const docs = sentDocs();
    expect(docs).toHaveLength(2); // v1alpha1 + HostnameConfig, both sent
    expect(docs[0].machine.kubelet.image).toBe("ghcr.io/siderolabs/kubelet:v1.34.2");
    expect(docs[0].cluster.clusterName).toBe("sim");
    expect(h.sim.cluster.find(W)!.machineConfig).toBe(before); // a dry run changes nothing
  });

  test("the diff shown never carries secret material", async () => {
    // A control plane: only its config holds CA keys (a worker's has none, as on Talos).
    const r = ok(await h.call("talos_patch_config", { nodes: [CP], patch: "machine:\n  ca:\n    crt: bmV3\n" }));
    const key = /key: (LS0t\S+)/.exec(h.sim.cluster.find(CP)!.machineConfig)![1];
    expect(entry(r, CP).details).toContain("<masked: private key>"); // the diff's context had the CA key
    expect(JSON.stringify(r)).not.toContain(key);
  });

  test("multi-document: patch documents match by kind and name; new ones are appended; $patch: delete removes", async () => {
    ok(
      await h.call("talos_patch_config", {
        nodes: [W],
        patch: [
          "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: web-2",
          "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: nut-client\nenvironment: [UPS=ups1]",
        ].join("\n---\n"),
      }),
    );
    const docs = sentDocs();
    expect(docs.map((d) => d.kind ?? "v1alpha1")).toEqual(["v1alpha1", "HostnameConfig", "ExtensionServiceConfig"]);
    expect(docs[1]).toEqual({ apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: "web-2" });
    ok(
      await h.call("talos_patch_config", {
        nodes: [W],
        patch: "apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n",
      }),
    );
    expect(sentDocs().map((d) => d.kind ?? "v1alpha1")).toEqual(["v1alpha1"]);
  });

  test("a JSON 6902 patch on a multi-document config is refused as Talos does, before any apply", async () => {
    const n = applies();
    const r = failed(
      await h.call("talos_patch_config", {
        nodes: [W],
        patch: JSON.stringify([{ op: "replace", path: "/machine/install/disk", value: "/dev/x" }]),
      }),
    );
    expect(entry(r, W).code).toBe("INVALID_ARGUMENT");
    expect(entry(r, W).error).toContain("only apply to single-document machine configs");
    expect(applies()).toBe(n);
  });

  test("a JSON 6902 patch on a single-document config applies", async () => {
    const node = h.sim.cluster.find(W)!;
    const saved = node.machineConfig;
    node.machineConfig = stringify(docsOf(saved)[0]);
    try {
      const r = ok(
        await h.call("talos_patch_config", {
          nodes: [W],
          patch: JSON.stringify([
            { op: "replace", path: "/machine/install/disk", value: "/dev/vdb" },
            { op: "add", path: "/machine/certSANs/-", value: "json-1.example.com" },
          ]),
        }),
      );
      expect(entry(r, W)).toMatchObject({ changed: true, patch_kind: "json6902" });
      expect(sentDocs()[0].machine.install.disk).toBe("/dev/vdb");
      expect(sentDocs()[0].machine.certSANs).toEqual(["json-1.example.com"]);
      const bad = failed(
        await h.call("talos_patch_config", {
          nodes: [W],
          patch: JSON.stringify([{ op: "remove", path: "/machine/nope" }]),
        }),
      );
      expect(entry(bad, W).error).toContain("The JSON patch does not apply");
    } finally {
      node.machineConfig = saved;
    }
  });

  test("a patch that changes nothing is said so, and nothing is sent", async () => {
    const n = applies();
    const r = ok(
      await h.call("talos_patch_config", {
        nodes: [W],
        patch: "machine:\n  install:\n    disk: /dev/sda\n",
        dry_run: false,
        confirm: true,
      }),
    );
    expect(entry(r, W)).toMatchObject({ changed: false });
    expect(entry(r, W).details).toContain("No changes");
    expect(applies()).toBe(n);
  });

  test("applying sends the explicit mode; a later talos_get shows the new config", async () => {
    const r = ok(
      await h.call("talos_patch_config", {
        nodes: [W],
        patch: "machine:\n  env:\n    HTTP_PROXY: http://proxy:3128\n",
        dry_run: false,
        mode: "no-reboot",
        confirm: true,
      }),
    );
    expect(entry(r, W)).toMatchObject({
      changed: true,
      mode: "NO_REBOOT",
      details: "Applied configuration without a reboot",
    });
    expect(lastApply().request).toMatchObject({ mode: "NO_REBOOT", dry_run: false });
    const got = ok(await h.call("talos_get", { nodes: [W], resource_type: "machineconfig", resource_id: "v1alpha1" }));
    expect(entry(got, W).resources[0].spec[0].machine.env).toEqual({ HTTP_PROXY: "http://proxy:3128" });
  });

  test("staged mode keeps the running config until the next reboot", async () => {
    ok(
      await h.call("talos_patch_config", {
        nodes: [W],
        patch: "machine:\n  env:\n    STAGED: yes\n",
        dry_run: false,
        mode: "staged",
        confirm: true,
      }),
    );
    expect(lastApply().request).toMatchObject({ mode: "STAGED", dry_run: false });
    expect(h.sim.cluster.find(W)!.machineConfig).not.toContain("STAGED");
    expect(h.sim.cluster.find(W)!.stagedConfig).toContain("STAGED");
  });

  test("mode reboot on a Talos 1.14 node: the node's refusal is explained", async () => {
    const r = failed(
      await h.call("talos_patch_config", {
        nodes: [W14],
        patch: "machine:\n  env:\n    A: b\n",
        dry_run: false,
        mode: "reboot",
        confirm: true,
      }),
    );
    expect(entry(r, W14).code).toBe("UNIMPLEMENTED");
    expect(entry(r, W14).error).toContain("Apply with mode auto or no-reboot");
    expect(lastApply().request).toMatchObject({ mode: "REBOOT", dry_run: false });
  });
});
