/**
 * @module Builds dist/talos-mcp: one self-contained executable with the protos
 * embedded, stamped with version and commit.
 *
 *   bun scripts/build.ts                       host platform → dist/talos-mcp
 *   bun scripts/build.ts --target bun-linux-arm64 --outfile dist/x
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    outfile: { type: "string", default: "dist/talos-mcp" },
    entry: { type: "string", default: "main.ts" },
  },
});

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const version = process.env.TALOS_MCP_VERSION ?? pkg.version;
let commit = process.env.TALOS_MCP_COMMIT ?? "";
if (!commit) {
  try {
    commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] })
      .toString().trim();
  } catch {
    commit = "unknown";
  }
}

const args = [
  "build",
  values.entry!,
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  `--outfile=${values.outfile}`,
  `--define=TALOS_MCP_VERSION=${JSON.stringify(version)}`,
  `--define=TALOS_MCP_COMMIT=${JSON.stringify(commit)}`,
  ...(values.target ? [`--target=${values.target}`] : []),
];
execFileSync(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] });
