/**
 * @module `npm run build:all`: every released platform cross-compiled into dist/,
 * each artifact of the right format and CPU, and the host's own (plus
 * linux-arm64 under qemu-user where the machine has it) run end to end.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Harness, ok, spawnHarness } from "../harness.ts";
import { PLATFORMS } from "../../scripts/platforms.ts";

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

beforeAll(() => {
  execFileSync(process.execPath, [resolve(ROOT, "scripts/build_all.ts")], { cwd: ROOT, stdio: "inherit" });
  // What the release's build hook does; without it Apple Silicon kills the binary at exec.
  if (host?.os === "darwin") execFileSync(resolve(ROOT, "scripts/adhoc_sign.sh"), ["darwin", dist(host.asset)]);
}, 300_000);

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

describe("end to end", () => {
  test.skipIf(!host)(`the host's artifact (${host?.asset ?? "none for this host"}) serves MCP`, async () => {
    await smoke(dist(host!.asset), []);
  });

  const qemu = ["qemu-aarch64", "qemu-aarch64-static"].find((q) => Bun.which(q));
  if (!qemu && host?.id !== "linux-arm64") {
    console.error(
      "build_all_test: no qemu-aarch64 on PATH; skipping the linux-arm64 run (the artifact is still checked above)",
    );
  }
  test.skipIf(!qemu || host?.os !== "linux" || host?.id === "linux-arm64")(
    "linux-arm64 under qemu-user serves MCP",
    async () => {
      await smoke(qemu!, [dist("talos-mcp-linux-arm64")]);
    },
    120_000,
  );
});
