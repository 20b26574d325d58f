/**
 * @module server.json for the MCP Registry: the committed (unstamped) file is
 * what scripts/server_json.ts renders and passes the registry's 2025-12-11
 * schema and ownership rules; a release stamp takes every MCPB sha256 from
 * checksums.txt; broken documents fail.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bundleName } from "../../scripts/mcpb.ts";
import { PLATFORMS } from "../../scripts/platforms.ts";
import {
  parseChecksums,
  PLACEHOLDER_SHA,
  renderServerJson,
  SCHEMA_FILE,
  SCHEMA_URL,
  SERVER_JSON,
  SERVER_NAME,
  UNSTAMPED,
  validateServerJson,
} from "../../scripts/server_json.ts";

const ROOT = resolve(import.meta.dir, "../..");
const committed = () => JSON.parse(readFileSync(SERVER_JSON, "utf8"));
const launcher = () => JSON.parse(readFileSync(join(ROOT, "npm/package.json"), "utf8"));
const sha = (i: number) => i.toString(16).padStart(2, "0").repeat(32);
const SUMS = new Map(PLATFORMS.map((p, i) => [bundleName(p), sha(i + 1)]));

test("the vendored schema is the registry's 2025-12-11 one", () => {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8"));
  expect(schema.$id).toBe(SCHEMA_URL);
  expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
  expect(Object.keys(schema.definitions)).toContain("LocalTransport");
});

test("the committed server.json is the rendered template and passes", () => {
  expect(committed()).toEqual(renderServerJson(UNSTAMPED, null));
  expect(validateServerJson(committed())).toEqual([]);
  expect(committed().packages.map((p: any) => p.registryType)).toEqual(["npm", "oci", ...PLATFORMS.map(() => "mcpb")]);
});

test("the launcher's package.json carries mcpName = the server name", () => {
  expect(launcher().mcpName).toBe(SERVER_NAME);
  expect(committed().name).toBe(SERVER_NAME);
});

describe("a release stamp", () => {
  const doc = renderServerJson("1.2.3", SUMS);

  test("puts the version everywhere and each bundle's sha256 from checksums.txt", () => {
    expect(validateServerJson(doc, { stamped: true })).toEqual([]);
    const mcpb = doc.packages.filter((p: any) => p.registryType === "mcpb");
    expect(mcpb.map((p: any) => [p.identifier, p.fileSha256])).toEqual(
      PLATFORMS.map((p, i) => [
        `https://github.com/talos-mcp/talos-mcp/releases/download/v1.2.3/${bundleName(p)}`,
        sha(i + 1),
      ]),
    );
    expect(doc.packages.find((p: any) => p.registryType === "oci").identifier).toBe(
      "ghcr.io/talos-mcp/talos-mcp:1.2.3",
    );
    expect(doc.packages.find((p: any) => p.registryType === "npm").version).toBe("1.2.3");
  });

  test("refuses a checksums.txt without a bundle", () => {
    const partial = new Map(SUMS);
    partial.delete("talos-mcp-windows-amd64.mcpb");
    expect(() => renderServerJson("1.2.3", partial)).toThrow("talos-mcp-windows-amd64.mcpb is not in checksums.txt");
  });

  test("the CLI stamps from a checksums.txt file and the result checks as stamped", () => {
    const dir = mkdtempSync(join(tmpdir(), "talos-mcp-serverjson-"));
    try {
      const sums = [...SUMS].map(([n, s]) => `${s}  ${n}\n`).join("") + `${sha(99)}  talos-mcp-linux-amd64\n`;
      writeFileSync(join(dir, "checksums.txt"), sums);
      const out = join(dir, "server.json");
      const args = ["--version", "v1.2.3", "--checksums", join(dir, "checksums.txt"), "--out", out];
      const r = spawnSync(process.execPath, [join(ROOT, "scripts/server_json.ts"), ...args], { encoding: "utf8" });
      expect(r.stderr).toContain(`stamped ${out}: ${SERVER_NAME}@1.2.3`);
      expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(doc);
      const check = (f: string) =>
        spawnSync(process.execPath, [join(ROOT, "scripts/server_json.ts"), "--check", "--stamped", f], {
          encoding: "utf8",
        });
      expect(check(out).status).toBe(0);
      const unstamped = check(SERVER_JSON);
      expect(unstamped.status).toBe(1);
      expect(unstamped.stderr).toContain("version is unstamped");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("parseChecksums reads GoReleaser's two-space lines", () => {
    expect(parseChecksums(`${sha(1)}  a.mcpb\n${sha(2)} *b\nnoise\n`)).toEqual(
      new Map([["a.mcpb", sha(1)], ["b", sha(2)]]),
    );
  });
});

describe("broken documents fail", () => {
  const cases: Array<[string, (d: any) => void, string, object?]> = [
    ["no name", (d) => delete d.name, "schema: / must have required property 'name'"],
    ["a name without a namespace", (d) => (d.name = "talos-mcp"), "schema: /name must match pattern"],
    ["a description over 100 characters", (d) => (d.description = "x".repeat(101)), "/description must NOT have more"],
    ["a bad sha256", (d) => (d.packages[2].fileSha256 = "XYZ"), "schema: /packages/2/fileSha256 must match pattern"],
    ["a package without transport", (d) => delete d.packages[0].transport, "must have required property 'transport'"],
    ["version latest", (d) => (d.packages[0].version = "latest"), "schema: /packages/0/version must NOT be valid"],
    ["an old schema URL", (d) => (d.$schema = SCHEMA_URL.replace("2025-12-11", "2025-09-29")), "$schema is"],
    ["no OCI image", (d) => d.packages.splice(1, 1), "packages: no oci package"],
    ["an image tag off the version", (d) => (d.packages[1].identifier += "x"), "tag is not the version"],
    ["a missing bundle", (d) => d.packages.pop(), "differ from scripts/platforms.ts"],
    ["a placeholder hash in a stamped file", (d) => (d.packages[2].fileSha256 = PLACEHOLDER_SHA), "is the placeholder"],
    [
      "a launcher whose mcpName differs",
      () => {},
      "mcpName io.github.someone/else is not the server name",
      { launcher: { name: "talos-mcp", mcpName: "io.github.someone/else" } },
    ],
  ];
  for (const [name, edit, message, opts] of cases) {
    test(name, () => {
      const d = structuredClone(renderServerJson("1.2.3", SUMS));
      edit(d);
      expect(validateServerJson(d, { stamped: true, ...opts }).join("\n")).toContain(message);
    });
  }
});
