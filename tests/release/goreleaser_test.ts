/**
 * @module .goreleaser.yaml checked offline: GoReleaser's published JSON Schema
 * (from shared/, or GORELEASER_SCHEMA) plus the bun-specific rules, and proof
 * that the check fails on configs with injected errors.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse, stringify } from "yaml";
import { checkGoreleaser, normaliseSchema, schemaPath } from "../../scripts/goreleaser_check.ts";

const ROOT = resolve(import.meta.dir, "../..");
const TEXT = readFileSync(resolve(ROOT, ".goreleaser.yaml"), "utf8");
const SCHEMA = schemaPath();
const haveSchema = existsSync(SCHEMA);
if (!haveSchema) {
  const msg = `goreleaser_test: no GoReleaser schema at ${SCHEMA} (set GORELEASER_SCHEMA)`;
  if (process.env.TALOS_MCP_REQUIRE_SHARED === "1") throw new Error(msg);
  console.error(`${msg}; skipping the .goreleaser.yaml checks`);
}

/** The config with `edit` applied to its parsed form. */
function broken(edit: (c: any) => void): string {
  const c = parse(TEXT);
  edit(c);
  return stringify(c);
}

describe.skipIf(!haveSchema)(".goreleaser.yaml", () => {
  test("passes the schema and the bun checks", () => {
    expect(checkGoreleaser(TEXT, SCHEMA)).toEqual([]);
  });

  test("the schema is compiled as one resource (no nested $id left, embedded $defs hoisted)", () => {
    const raw = readFileSync(SCHEMA, "utf8");
    expect(raw.match(/"\$id"/g)!.length).toBeGreaterThan(1); // the input really has nested resources
    const norm = JSON.stringify(normaliseSchema(JSON.parse(raw)));
    expect(norm.match(/"\$id"/g)).toHaveLength(1);
    expect(Object.keys(normaliseSchema(JSON.parse(raw)).$defs)).toContain("file_info__FileInfo");
  });

  const cases: Array<[string, (c: any) => void, string]> = [
    [
      "an unknown build key",
      (c) => (c.builds[0].bogus = 1),
      "schema: /builds/0 must NOT have additional properties (bogus)",
    ],
    [
      "an unknown builder",
      (c) => (c.builds[0].builder = "bunx"),
      "schema: /builds/0/builder must be equal to one of the allowed values",
    ],
    [
      "a wrong type in an embedded resource",
      (c) => (c.archives[0].builds_info = { mode: "rwx" }),
      "schema: /archives/0/builds_info/mode must be integer",
    ],
    ["a bad hook entry", (c) => (c.builds[0].hooks.post = [{ cmd: "x", bogus: true }]), "schema: /builds/0/hooks/post"],
    [
      "a top-level typo",
      (c) => (c.homebrew_cask = c.homebrew_casks),
      "schema: / must NOT have additional properties (homebrew_cask)",
    ],
    [
      "a target bun does not have",
      (c) => c.builds[0].targets.push("linux-x64-avx2"),
      "linux-x64-avx2 is not a bun target",
    ],
    [
      "a target list out of step with build:all",
      (c) => (c.builds[0].targets[0] = "linux-x64-modern"),
      "differ from scripts/platforms.ts",
    ],
    ["flags without --compile", (c) => c.builds[0].flags.shift(), "flags replace GoReleaser's default --compile"],
    ["no version stamp", (c) => c.builds[0].flags.pop(), "flags do not stamp TALOS_MCP_COMMIT"],
    ["a Go-only key", (c) => (c.builds[0].ldflags = ["-s -w"]), "ldflags is a Go-only key"],
    ["goos on a bun build", (c) => (c.builds[0].goos = ["linux"]), "goos is a Go-only key"],
    ["no macOS re-signing hook", (c) => delete c.builds[0].hooks, "no post-build hook re-signs macOS binaries"],
    [
      "bare binaries the launcher would not find",
      (c) => (c.archives[1].name_template = "{{ .ProjectName }}_{{ .Os }}_{{ .Arch }}"),
      "the launcher fetches talos-mcp-linux-amd64",
    ],
    ["no bare binaries", (c) => c.archives.pop(), "no bare-binary archive"],
    ["Windows as tar.gz", (c) => delete c.archives[0].format_overrides, "Windows must be zip"],
    ["the deprecated brews", (c) => (c.brews = [{ name: "talos-mcp" }]), "brews is deprecated"],
    ["another checksum file", (c) => (c.checksum.algorithm = "sha512"), "expect a sha256 checksums.txt"],
    ["no cask", (c) => delete c.homebrew_casks, "homebrew_casks: none"],
    ["no MCPB hook", (c) => c.builds[0].hooks.post.pop(), "no post-build hook packs the MCPB bundle"],
    [
      "bundling before signing",
      (c) => c.builds[0].hooks.post.reverse(),
      "the MCPB hook runs before the re-signing hook",
    ],
    ["MCPB not released", (c) => delete c.release.extra_files, "extra_files does not upload the MCPB bundles"],
    ["MCPB not checksummed", (c) => delete c.checksum.extra_files, "extra_files does not list the MCPB bundles"],
  ];
  for (const [name, edit, message] of cases) {
    test(`fails on ${name}`, () => {
      expect(checkGoreleaser(broken(edit), SCHEMA).join("\n")).toContain(message);
    });
  }

  test("fails on YAML that does not parse", () => {
    expect(checkGoreleaser("builds: [", SCHEMA)[0]).toStartWith("not YAML:");
  });
});
