/**
 * @module Cross-compiles talos-mcp for every released platform into dist/.
 *
 *   bun scripts/build_all.ts                   all targets
 *   bun scripts/build_all.ts --only linux-x64  one or more (comma-separated)
 *
 * x64 targets use Bun's `baseline` runtime: the default one needs AVX2 and dies
 * with SIGILL on older CPUs and some VMs. Each artifact is named
 * dist/talos-mcp-<os>-<arch>[.exe], the names the npm launcher and GoReleaser's
 * bare-binary uploads use. Bun fetches each cross-compile runtime from the npm
 * registry on first use and caches it.
 */
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { parseArgs } from "node:util";
import { PLATFORMS } from "./platforms.ts";

const { values } = parseArgs({ options: { only: { type: "string" } } });
const wanted = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
const unknown = wanted?.filter((w) => !PLATFORMS.some((p) => p.id === w)) ?? [];
if (unknown.length) {
  console.error(`build_all: unknown platform ${unknown.join(", ")}; known: ${PLATFORMS.map((p) => p.id).join(", ")}`);
  process.exit(2);
}

for (const p of PLATFORMS.filter((p) => !wanted || wanted.includes(p.id))) {
  const outfile = `dist/${p.asset}`;
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    [new URL("./build.ts", import.meta.url).pathname, "--target", p.bunTarget, "--outfile", outfile],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const mib = statSync(outfile).size / 2 ** 20;
  console.error(`${outfile}: ${mib.toFixed(1)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
