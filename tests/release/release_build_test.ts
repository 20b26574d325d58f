/**
 * @module The release, built offline: `npm run build:all` (every platform,
 * each artifact of the right format and CPU; the host's own, and linux-arm64
 * under qemu-user where the machine has it, run end to end), then a
 * snapshot-like release from it (archives, bare binaries, checksums.txt, the
 * Homebrew cask) checked as users and the npm launcher would consume it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { type Harness, ok, spawnHarness } from "../harness.ts";
import {
  type FakeRelease,
  HOST_ASSET,
  removeStampedLaunchers,
  runNode,
  stampedLauncher,
  startRelease,
  VERSION,
} from "../launcher/fake_release.ts";
import { PLATFORMS } from "../../scripts/platforms.ts";
import { caskDownloads } from "../../scripts/render_cask.ts";
import { bundleName, MCPB_CLI, mcpbManifest } from "../../scripts/mcpb.ts";
import { snapshot } from "../../scripts/snapshot.ts";

const ROOT = resolve(import.meta.dir, "../..");
const dist = (asset: string) => resolve(ROOT, "dist", asset);
const pkg = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8"));

/** The commit scripts/build.ts stamps when TALOS_MCP_COMMIT is unset. */
function expectedCommit(): string {
  if (process.env.TALOS_MCP_COMMIT) return process.env.TALOS_MCP_COMMIT;
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT }).toString().trim();
  } catch {
    return "unknown";
  }
}

/** Executable format and CPU read from the file header (ELF, Mach-O, PE). */
function binaryKind(path: string): string {
  const b = readFileSync(path).subarray(0, 4096);
  if (b.readUInt32BE(0) === 0x7f454c46) {
    const machine = b.readUInt16LE(18);
    return `elf-${machine === 0x3e ? "amd64" : machine === 0xb7 ? "arm64" : machine.toString(16)}`;
  }
  if (b.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = b.readUInt32LE(4);
    return `macho-${cpu === 0x01000007 ? "amd64" : cpu === 0x0100000c ? "arm64" : cpu.toString(16)}`;
  }
  if (b.toString("latin1", 0, 2) === "MZ") {
    const pe = b.readUInt32LE(0x3c);
    if (b.toString("latin1", pe, pe + 4) !== "PE\0\0") return "mz-without-pe";
    const machine = b.readUInt16LE(pe + 4);
    return `pe-${machine === 0x8664 ? "amd64" : machine === 0xaa64 ? "arm64" : machine.toString(16)}`;
  }
  return "unknown";
}

const host = PLATFORMS.find((p) =>
  p.os === (process.platform === "win32" ? "windows" : process.platform) &&
  p.nodeArch === process.arch
);

const SNAP_VERSION = `${pkg.version}-snapshot`;
let snap: { dir: string; checksums: Map<string, string> };

beforeAll(async () => {
  execFileSync(process.execPath, [resolve(ROOT, "scripts/build_all.ts")], { cwd: ROOT, stdio: "inherit" });
  // What the release's build hook does; without it Apple Silicon kills the binary at exec.
  if (host?.os === "darwin") execFileSync(resolve(ROOT, "scripts/adhoc_sign.sh"), ["darwin", dist(host.asset)]);
  snap = await snapshot(SNAP_VERSION);
}, 300_000);
afterAll(() => {
  if (process.env.KEEP_SNAPSHOT !== "1") rmSync(resolve(ROOT, "dist/snapshot"), { recursive: true, force: true });
  removeStampedLaunchers();
});

test("every platform is built, as an executable of its OS and CPU", () => {
  const formats = { linux: "elf", darwin: "macho", windows: "pe" };
  for (const p of PLATFORMS) {
    expect(`${p.asset}: ${binaryKind(dist(p.asset))}`).toBe(`${p.asset}: ${formats[p.os]}-${p.goarch}`);
  }
});

test("x64 targets use Bun's baseline runtime (no AVX2 needed)", () => {
  for (const p of PLATFORMS.filter((p) => p.nodeArch === "x64")) expect(p.bunTarget).toEndWith("-baseline");
});

/** --version and one talos_version call against the simulator through `command args`. */
async function smoke(command: string, args: string[]): Promise<void> {
  const out = execFileSync(command, [...args, "--version"]).toString();
  expect(out).toBe(`talos-mcp ${pkg.version} (commit ${expectedCommit()})\n`);
  let h: Harness | undefined;
  try {
    h = await spawnHarness({ command, args, sim: { controlPlanes: 1, workers: 1 } });
    const r = ok(await h.call("talos_version"));
    expect(r.nodes.map((n: any) => [n.node, n.tag])).toEqual([["10.5.0.2", "v1.13.9"], ["10.5.0.3", "v1.13.9"]]);
    expect(h.sim.callsTo("Version").length).toBeGreaterThanOrEqual(2);
  } finally {
    await h?.close();
  }
}

const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";

describe("end to end", () => {
  test.skipIf(!host)(`the host's artifact (${host?.asset ?? "none for this host"}) serves MCP`, async () => {
    await smoke(dist(host!.asset), []);
  });

  const qemu = ["qemu-aarch64", "qemu-aarch64-static"].find((q) => Bun.which(q));
  // The binary links against glibc: qemu-user needs an arm64 one (Debian's libc6-arm64-cross puts it here).
  const sysroot = existsSync(`${ARM64_SYSROOT}/lib/ld-linux-aarch64.so.1`) ? ARM64_SYSROOT : undefined;
  if ((!qemu || !sysroot) && host?.id !== "linux-arm64") {
    console.error(
      "release_build_test: no qemu-aarch64 or no arm64 glibc (Debian: qemu-user, libc6-arm64-cross; .ci/run " +
        "installs them as root); skipping the linux-arm64 run (the artifact is still checked above)",
    );
  }
  test.skipIf(!qemu || !sysroot || host?.os !== "linux" || host?.id === "linux-arm64")(
    "linux-arm64 under qemu-user serves MCP",
    async () => {
      await smoke(qemu!, ["-L", sysroot!, dist("talos-mcp-linux-arm64")]);
    },
    120_000,
  );
});

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
/** checksums.txt as written on disk, parsed. */
const checksumsOnDisk = () =>
  new Map(
    readFileSync(join(snap.dir, "checksums.txt"), "utf8").trim().split("\n").map((l) => {
      const [sum, name] = l.split(/ +/);
      return [name, sum] as [string, string];
    }),
  );

describe("snapshot release", () => {
  test("checksums.txt covers every archive, bare binary and MCPB bundle, and each matches the file", () => {
    const sums = checksumsOnDisk();
    const expected = PLATFORMS.flatMap((p) => [
      p.asset,
      `talos-mcp_${SNAP_VERSION}_${p.os}_${p.goarch}.${p.os === "windows" ? "zip" : "tar.gz"}`,
      bundleName(p),
    ]).sort();
    expect([...sums.keys()].sort()).toEqual(expected);
    for (const [name, sum] of sums) {
      expect(`${name} ${sha256(readFileSync(join(snap.dir, name)))}`).toBe(`${name} ${sum}`);
    }
  });

  test("each archive holds README.md and the very binary released bare", () => {
    for (const p of PLATFORMS.filter((p) => p.os !== "windows")) {
      const archive = join(snap.dir, `talos-mcp_${SNAP_VERSION}_${p.os}_${p.goarch}.tar.gz`);
      expect(execFileSync("tar", ["-tzf", archive]).toString().trim().split("\n").sort()).toEqual([
        "README.md",
        "talos-mcp",
      ]);
      const inside = execFileSync("tar", ["-xzOf", archive, "talos-mcp"], { maxBuffer: 512 * 2 ** 20 });
      expect(sha256(inside)).toBe(snap.checksums.get(p.asset)!);
    }
    const zip = join(snap.dir, `talos-mcp_${SNAP_VERSION}_windows_amd64.zip`);
    const listing = execFileSync("unzip", ["-Z1", zip]).toString().trim().split("\n").sort();
    expect(listing).toEqual(["README.md", "talos-mcp.exe"]);
  });

  test.skipIf(!host)(
    "the npm launcher, stamped with this checksums.txt, fetches and runs the host's bare binary",
    async () => {
      let release: FakeRelease | undefined;
      const cache = mkdtempSync(join(tmpdir(), "talos-mcp-snapcache-"));
      try {
        release = await startRelease(readFileSync(join(snap.dir, HOST_ASSET)));
        release.files.set("checksums.txt", readFileSync(join(snap.dir, "checksums.txt")));
        const pkgDir = stampedLauncher(release.files.get("checksums.txt")!);
        const r = await runNode(join(pkgDir, "bin/talos-mcp.js"), ["--version"], {
          TALOS_MCP_CACHE_DIR: cache,
          TALOS_MCP_MIRROR: release.url,
        });
        expect(r.stderr).toContain(`verified ${HOST_ASSET} v${VERSION} (sha256 ${snap.checksums.get(HOST_ASSET)})`);
        expect(r.stdout).toBe(`talos-mcp ${pkg.version} (commit ${expectedCommit()})\n`);
        expect(r.code).toBe(0);
      } finally {
        await release?.close();
        rmSync(cache, { recursive: true, force: true });
      }
    },
  );
});

describe("MCPB bundles", () => {
  test("each holds its manifest and the very binary released bare, executable", () => {
    for (const p of PLATFORMS) {
      const bundle = join(snap.dir, bundleName(p));
      const exe = `server/talos-mcp${p.os === "windows" ? ".exe" : ""}`;
      const listing = execFileSync("unzip", ["-Z", bundle]).toString();
      expect(listing).toMatch(new RegExp(`^-?.rwxr-xr-x .* ${exe.replace(".", "\\.")}$`, "m"));
      expect(execFileSync("unzip", ["-Z1", bundle]).toString().trim().split("\n").sort()).toEqual(
        ["manifest.json", exe].sort(),
      );
      const inside = execFileSync("unzip", ["-p", bundle, exe], { maxBuffer: 512 * 2 ** 20 });
      expect(`${p.id} ${sha256(inside)}`).toBe(`${p.id} ${snap.checksums.get(p.asset)}`);
      const manifest = JSON.parse(execFileSync("unzip", ["-p", bundle, "manifest.json"]).toString());
      expect(manifest).toEqual(mcpbManifest(p, SNAP_VERSION));
    }
  });

  test("mcpb info reads each bundle", () => {
    for (const p of PLATFORMS) {
      const r = spawnSync(process.execPath, [MCPB_CLI, "info", join(snap.dir, bundleName(p))], { encoding: "utf8" });
      expect(`${r.status} ${r.stdout}${r.stderr}`).toContain("talos-mcp");
      expect(r.status).toBe(0);
    }
  });

  test.skipIf(!host)(
    "the host's bundle, unpacked by mcpb and run as a host would (read-only), serves MCP",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "talos-mcp-unpacked-"));
      let h: Harness | undefined;
      try {
        execFileSync(process.execPath, [MCPB_CLI, "unpack", join(snap.dir, bundleName(host!)), dir]);
        const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
        const cfg = manifest.server.mcp_config;
        // The substitution a host does, with the user_config defaults (talosconfig: the simulator's).
        const env = Object.fromEntries(
          Object.entries<string>(cfg.env).map(([k, v]) => [
            k,
            v.replace("${user_config.context}", "")
              .replace("${user_config.read_only}", String(manifest.user_config.read_only.default)),
          ]),
        );
        delete env.TALOSCONFIG;
        h = await spawnHarness({
          command: cfg.command.replace("${__dirname}", dir),
          args: cfg.args,
          // Only what the manifest sets: the harness's own "every toolset" must not stand in for it.
          env: { TALOS_MCP_TOOLSETS: "", ...env },
          sim: { controlPlanes: 1, workers: 0 },
        });
        const tools = (await h.client.listTools()).tools.map((t) => t.name);
        // What the host shows is the manifest's list, less what read-only mode (on by default) hides.
        const readOnly = new Set(
          JSON.parse(readFileSync(resolve(import.meta.dir, "../snapshots/tools_list_read_only.json"), "utf8")).map((
            t: any,
          ) => t.name),
        );
        expect(tools.sort()).toEqual(
          manifest.tools.map((t: any) => t.name).filter((n: string) => readOnly.has(n)).sort(),
        );
        expect(tools).not.toContain("talos_reboot");
        expect(ok(await h.call("talos_version")).nodes.map((n: any) => n.tag)).toEqual(["v1.13.9"]);
      } finally {
        await h?.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("Homebrew cask", () => {
  const cask = () => join(snap.dir, "Casks", "talos-mcp.rb");
  const rubySyntax = (file: string) =>
    spawnSync("node", ["--no-warnings", resolve(ROOT, "scripts/ruby_syntax.mjs"), file], { encoding: "utf8" });

  test("is valid Ruby (Prism)", () => {
    const r = rubySyntax(cask());
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("the syntax check fails on a broken cask", () => {
    const dir = mkdtempSync(join(tmpdir(), "talos-mcp-cask-"));
    try {
      const broken = join(dir, "broken.rb");
      writeFileSync(broken, readFileSync(cask(), "utf8").replace(/\nend\n$/, "\n"));
      const r = rubySyntax(broken);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("broken.rb:");
      writeFileSync(broken, readFileSync(cask(), "utf8").replace('binary "talos-mcp"', 'binary "talos-mcp'));
      expect(rubySyntax(broken).status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("every url/sha256 pair matches checksums.txt, one per macOS and Linux CPU", () => {
    const rb = readFileSync(cask(), "utf8");
    const sums = checksumsOnDisk();
    const downloads = caskDownloads(rb);
    const base = `https://github.com/talos-mcp/talos-mcp/releases/download/v${SNAP_VERSION}/`;
    for (const d of downloads) {
      expect(d.url.startsWith(base)).toBe(true);
      const file = basename(d.url);
      expect(`${file} ${d.sha256}`).toBe(`${file} ${sums.get(file)}`);
    }
    const want = PLATFORMS.filter((p) => p.os !== "windows").map((p) =>
      `talos-mcp_${SNAP_VERSION}_${p.os}_${p.goarch}.tar.gz`
    );
    expect(downloads.map((d) => basename(d.url)).sort()).toEqual(want.sort());
    // macOS archives in on_macos, Linux ones in on_linux.
    const macos = rb.slice(rb.indexOf("on_macos do"), rb.indexOf("on_linux do"));
    expect(caskDownloads(macos).every((d) => d.url.includes("_darwin_"))).toBe(true);
    expect(caskDownloads(macos)).toHaveLength(2);
  });
});
