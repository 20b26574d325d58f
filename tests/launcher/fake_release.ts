/**
 * @module A fake GitHub release on a loopback HTTP server for the launcher
 * tests, plus a copy of npm/ stamped for it. Faults per test: tampered
 * binary or checksums, missing files, a body cut short, and a barrier that
 * holds binary downloads until N have started (to make first runs race).
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PLATFORMS } from "../../scripts/platforms.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const VERSION = "9.8.7";

/** The release asset the launcher asks for on this machine. */
export const HOST_ASSET = (() => {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const p = PLATFORMS.find((p) => p.os === os && p.nodeArch === process.arch);
  if (!p) throw new Error(`no released platform for ${process.platform}/${process.arch}`);
  return p.asset;
})();

/** A tiny stand-in server: prints its arguments and echoes stdin, exits 3. */
export const FAKE_BINARY = Buffer.from(
  '#!/bin/sh\nprintf "fake-server args=[%s]\\n" "$*"\ncat\necho "fake-server stderr" >&2\nexit 3\n',
);

export const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

export function checksumsFor(files: Record<string, Buffer>): Buffer {
  return Buffer.from(Object.entries(files).map(([name, body]) => `${sha256(body)}  ${name}\n`).join(""));
}

export interface FakeRelease {
  url: string;
  /** Request paths in arrival order. */
  requests: string[];
  /** Body per path under /v<VERSION>/; delete a key for a 404. */
  files: Map<string, Buffer>;
  /** Paths whose body is cut off halfway (Content-Length still says full). */
  truncate: Set<string>;
  /** Hold binary responses until this many binary requests have arrived. */
  holdUntil: number;
  close(): Promise<void>;
}

/** Starts the server with a good release: the fake binary and a matching checksums.txt. */
export async function startRelease(binary: Buffer = FAKE_BINARY): Promise<FakeRelease> {
  const files = new Map<string, Buffer>();
  const others = { "talos-mcp-windows-amd64.exe": Buffer.from("other platform") };
  files.set(HOST_ASSET, binary);
  files.set("checksums.txt", checksumsFor({ ...others, [HOST_ASSET]: binary }));
  const held: Array<() => void> = [];
  let binaryRequests = 0;
  const release: FakeRelease = {
    url: "",
    requests: [],
    files,
    truncate: new Set(),
    holdUntil: 0,
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "";
    release.requests.push(path);
    const name = path.startsWith(`/v${VERSION}/`) ? path.slice(`/v${VERSION}/`.length) : "";
    const body = files.get(name);
    if (!body) {
      res.writeHead(404).end("Not Found");
      return;
    }
    const send = () => {
      res.writeHead(200, { "content-length": body.length, "content-type": "application/octet-stream" });
      if (release.truncate.has(name)) {
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
      } else {
        res.end(body);
      }
    };
    if (name !== HOST_ASSET || release.holdUntil === 0) return send();
    held.push(send);
    if (++binaryRequests >= release.holdUntil) { for (const s of held.splice(0)) s(); }
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  release.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return release;
}

const created: string[] = [];

/** Removes the temporary directories stampedLauncher made. */
export function removeStampedLaunchers(): void {
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A copy of npm/ stamped with VERSION and the sha256 of `checksums` (what the release workflow does). */
export function stampedLauncher(checksums: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), "talos-mcp-launcher-"));
  created.push(dir);
  cpSync(join(ROOT, "npm"), join(dir, "pkg"), { recursive: true });
  writeFileSync(join(dir, "checksums.txt"), checksums);
  execFileSync(process.execPath, [
    join(ROOT, "scripts/stamp_launcher.ts"),
    "--version",
    `v${VERSION}`,
    "--checksums",
    join(dir, "checksums.txt"),
    "--dir",
    join(dir, "pkg"),
  ], { stdio: ["ignore", "ignore", "pipe"] });
  return join(dir, "pkg");
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node <script> ...args` with `env` (plus PATH) and `stdin`, under system node. */
export async function runNode(script: string, args: string[], env: Record<string, string>, stdin = ""): Promise<Run> {
  const proc = Bun.spawn(["node", script, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  proc.stdin.write(stdin);
  await proc.stdin.end();
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}
