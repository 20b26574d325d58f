/**
 * @module A snapshot-like local release from the build:all binaries, laid out
 * as .goreleaser.yaml would (GoReleaser itself cannot run here): archives
 * (tar.gz, zip for Windows) with README.md, bare binaries, checksums.txt and
 * the Homebrew cask, in dist/snapshot/; and the MCPB bundles GoReleaser's
 * post-build hook packs (scripts/mcpb.ts), listed in checksums.txt as its
 * checksum.extra_files puts them.
 *
 *   bun scripts/build_all.ts && bun scripts/snapshot.ts [--version 0.1.0-snapshot]
 *
 * Archives use the fastest gzip/zip level: only their checksums matter here.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { createGzip } from "node:zlib";
import { parse } from "yaml";
import { renderTemplate } from "./goreleaser_template.ts";
import { bundleName, packMcpb } from "./mcpb.ts";
import { PLATFORMS } from "./platforms.ts";
import { renderCask } from "./render_cask.ts";

const ROOT = resolve(import.meta.dir, "..");

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(createReadStream(path), h);
  return h.digest("hex");
}

async function tarGz(out: string, dir: string, files: string[]): Promise<void> {
  const tar = spawn("tar", ["-cf", "-", "-C", dir, ...files], { stdio: ["ignore", "pipe", "inherit"] });
  const done = new Promise<void>((res, rej) =>
    tar.on("close", (c) => (c === 0 ? res() : rej(new Error(`tar exited ${c}`))))
  );
  await pipeline(tar.stdout!, createGzip({ level: 1 }), createWriteStream(out));
  await done;
}

/** Builds dist/snapshot/ and returns its directory and the checksums it wrote. */
export async function snapshot(version: string): Promise<{ dir: string; checksums: Map<string, string> }> {
  const config = parse(readFileSync(join(ROOT, ".goreleaser.yaml"), "utf8"));
  const [packed, bare] = config.archives;
  const out = join(ROOT, "dist/snapshot");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const names: string[] = [];
  await Promise.all(PLATFORMS.map(async (p) => {
    const vars = { ProjectName: config.project_name, Version: version, Os: p.os, Arch: p.goarch, Env: {} };
    const exe = p.os === "windows" ? ".exe" : "";
    const stage = join(out, `.stage-${p.id}`);
    mkdirSync(stage);
    copyFileSync(join(ROOT, "dist", p.asset), join(stage, `talos-mcp${exe}`));
    copyFileSync(join(ROOT, "README.md"), join(stage, "README.md"));
    const archive = renderTemplate(packed.name_template, vars) + (p.os === "windows" ? ".zip" : ".tar.gz");
    if (p.os === "windows") {
      execFileSync("zip", ["-q", "-1", "-X", join(out, archive), `talos-mcp${exe}`, "README.md"], { cwd: stage });
    } else {
      await tarGz(join(out, archive), stage, ["talos-mcp", "README.md"]);
    }
    const binary = renderTemplate(bare.name_template, vars) + exe;
    copyFileSync(join(stage, `talos-mcp${exe}`), join(out, binary));
    rmSync(stage, { recursive: true });
    names.push(archive, binary);
  }));
  // One at a time: each pack is CPU-bound (level-9 deflate of ~110 MiB) and CI has few cores.
  for (const p of PLATFORMS) {
    await packMcpb(
      p,
      version,
      join(
        out,
        renderTemplate(bare.name_template, {
          ProjectName: config.project_name,
          Version: version,
          Os: p.os,
          Arch: p.goarch,
          Env: {},
        }) + (p.os === "windows" ? ".exe" : ""),
      ),
      out,
    );
    names.push(bundleName(p));
  }
  const checksums = new Map<string, string>();
  for (const n of names.sort()) checksums.set(n, await sha256File(join(out, n)));
  writeFileSync(join(out, "checksums.txt"), [...checksums].map(([n, s]) => `${s}  ${n}\n`).join(""));
  mkdirSync(join(out, "Casks"));
  writeFileSync(join(out, "Casks", `${config.homebrew_casks[0].name}.rb`), renderCask(config, version, checksums));
  return { dir: out, checksums };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { version: { type: "string" } } });
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const t0 = performance.now();
  const { dir } = await snapshot(values.version ?? `${pkg.version}-snapshot`);
  console.error(`snapshot in ${dir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
