/** @module Talos version parsing and the one-minor-per-step upgrade rule. */
import { describe, expect, test } from "bun:test";
import { checkUpgradePath, parseTalosVersion, usesLifecycleUpgrade } from "../../lib/talos/versions.ts";

describe("parseTalosVersion", () => {
  test.each([
    ["v1.13.9", { major: 1, minor: 13, patch: 9, prerelease: false }],
    ["1.14.0-beta.1", { major: 1, minor: 14, patch: 0, prerelease: true }],
    ["ghcr.io/siderolabs/installer:v1.12.3", { major: 1, minor: 12, patch: 3, prerelease: false }],
    ["factory.talos.dev/metal-installer/abc123:v1.14.1", { major: 1, minor: 14, patch: 1, prerelease: false }],
  ])("%s", (input, want) => expect(parseTalosVersion(input)).toMatchObject(want));

  test.each(["ghcr.io/siderolabs/installer:latest", "ghcr.io/siderolabs/installer@sha256:abcd", "main"])(
    "%s is not a version",
    (input) => expect(parseTalosVersion(input)).toBeUndefined(),
  );
});

describe("checkUpgradePath (one minor per step)", () => {
  test.each([
    ["v1.12.4", "ghcr.io/siderolabs/installer:v1.13.9", "ok"],
    ["v1.13.2", "ghcr.io/siderolabs/installer:v1.13.9", "ok"],
    ["v1.13.9", "ghcr.io/siderolabs/installer:v1.13.2", "ok"],
    ["v1.13.9", "ghcr.io/siderolabs/installer:v1.12.11", "ok"],
    ["v1.12.4", "ghcr.io/siderolabs/installer:v1.14.0", "rejected"],
    ["v1.10.9", "ghcr.io/siderolabs/installer:v1.13.9", "rejected"],
    ["v1.14.0", "ghcr.io/siderolabs/installer:v1.12.0", "rejected"],
    ["v1.13.9", "ghcr.io/siderolabs/installer:latest", "unparsed"],
    ["v1.13.9", "factory.talos.dev/installer/abc@sha256:0123", "unparsed"],
  ])("%s → %s: %s", (from, to, kind) => expect(checkUpgradePath(from, to).kind as string).toBe(kind));

  test("a rejection names the path to take", () => {
    const r = checkUpgradePath("v1.11.6", "ghcr.io/siderolabs/installer:v1.14.1");
    expect(r).toEqual({
      kind: "rejected",
      reason: "v1.11 → v1.14 skips 2 minor version(s); Talos supports one minor version per step",
      path: ["v1.12.x (latest patch)", "v1.13.x (latest patch)", "v1.14.1"],
    });
  });
});

test.each([["v1.12.9", false], ["v1.13.0", true], ["v1.14.0-beta.1", true]])(
  "%s uses the lifecycle upgrade: %p",
  (tag, want) => expect(usesLifecycleUpgrade(tag)).toBe(want),
);
