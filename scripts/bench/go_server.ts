/**
 * @module The Go talos-mcp v2.5.1, the seed the benchmarks compare with:
 * its linux-x64 npm package unpacked into a temp dir on demand.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The npm package holding the Go server's linux-x64 binary. */
export const GO_PACKAGE = "@talos-mcp/linux-x64@2.5.1";

/** Path of the Go server's binary, or undefined (with the reason on stderr) where it cannot be had. */
export function installGoServer(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") {
    console.error(`skipping the Go talos-mcp: ${GO_PACKAGE} is a linux-x64 binary`);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "talos-mcp-go-"));
  try {
    const tgz = execFileSync("npm", ["pack", GO_PACKAGE, "--silent"], { cwd: dir }).toString().trim().split("\n")
      .pop()!;
    execFileSync("tar", ["xzf", tgz], { cwd: dir });
    return join(dir, "package/bin/talos-mcp");
  } catch (err) {
    console.error(`skipping the Go talos-mcp: could not install ${GO_PACKAGE} (${(err as Error).message})`);
    return undefined;
  }
}
