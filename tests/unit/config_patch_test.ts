/** @module Machine-config patches, pure: parsing, merge and JSON 6902 application, sameness. */
import { describe, expect, test } from "bun:test";
import { applyPatch, parsePatch, sameConfig } from "../../lib/talos/config_patch.ts";

const v1 = {
  version: "v1alpha1",
  machine: { type: "worker", certSANs: ["a"], env: { A: "1" } },
  cluster: { name: "c" },
};
const host = { apiVersion: "v1alpha1", kind: "HostnameConfig", hostname: "h1" };

describe("parsePatch", () => {
  test.each([
    ['[{"op":"add","path":"/x","value":1}]', "json6902"],
    ["- op: add\n  path: /x\n  value: 1\n", "json6902"],
    ['{"machine":{"env":{"B":"2"}}}', "merge"],
    ["machine:\n  env:\n    B: '2'\n", "merge"],
    ["a: 1\n---\nb: 2\n", "merge"],
  ])("%s is %s", (text, kind) => expect(parsePatch(text).kind).toBe(kind as never));

  test.each(["[1, 2]", "42", "", "a: [\n"])("%p is refused", (text) => expect(() => parsePatch(text)).toThrow());
});

describe("applyPatch (merge)", () => {
  test("maps merge, lists append, scalars replace; the v1alpha1 patch needs no version key", () => {
    const { docs } = applyPatch([v1, host], "machine:\n  certSANs: [b]\n  env:\n    B: '2'\n  type: controlplane\n");
    expect(docs[0]).toEqual({
      version: "v1alpha1",
      machine: { type: "controlplane", certSANs: ["a", "b"], env: { A: "1", B: "2" } },
      cluster: { name: "c" },
    });
    expect(docs[1]).toEqual(host);
  });

  test("$patch: delete removes a key, and a whole document", () => {
    expect(applyPatch([v1], "machine:\n  env:\n    $patch: delete\n").docs[0]).toEqual({
      version: "v1alpha1",
      machine: { type: "worker", certSANs: ["a"] },
      cluster: { name: "c" },
    });
    expect(applyPatch([v1, host], "apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n").docs).toEqual([v1]);
  });

  test("documents match by apiVersion, kind and name; others are appended", () => {
    const ext = { apiVersion: "v1alpha1", kind: "ExtensionServiceConfig", name: "a", environment: ["X=1"] };
    const { docs } = applyPatch([v1, ext], "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: b\n");
    expect(docs).toHaveLength(3);
    const same = applyPatch(
      [v1, ext],
      "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: a\nenvironment: [Y=2]\n",
    );
    expect(same.docs[1]).toEqual({ ...ext, environment: ["X=1", "Y=2"] });
  });

  test("the input is not modified", () => {
    const before = structuredClone(v1);
    applyPatch([v1], "machine:\n  env:\n    Z: '9'\n");
    expect(v1).toEqual(before);
  });
});

describe("applyPatch (JSON 6902)", () => {
  test("applies on a single document", () => {
    const { docs } = applyPatch([v1], '[{"op":"replace","path":"/machine/type","value":"controlplane"}]');
    expect((docs[0] as typeof v1).machine.type).toBe("controlplane");
  });
  test("refuses multi-document configs and failing operations", () => {
    expect(() => applyPatch([v1, host], '[{"op":"add","path":"/x","value":1}]')).toThrow(/single-document/);
    expect(() => applyPatch([v1], '[{"op":"test","path":"/machine/type","value":"x"}]')).toThrow(/does not apply/);
  });
});

test("sameConfig ignores key order", () => {
  expect(sameConfig([{ a: 1, b: { c: 2, d: 3 } }], [{ b: { d: 3, c: 2 }, a: 1 }])).toBe(true);
  expect(sameConfig([{ a: [1, 2] }], [{ a: [2, 1] }])).toBe(false);
});
