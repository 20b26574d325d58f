/**
 * @module Stamps the npm launcher (npm/) with a release: its version and the
 * sha256 of that release's checksums.txt, the root of the launcher's trust
 * chain. The release workflow runs it right before `npm publish`.
 *
 *   bun scripts/stamp_launcher.ts --version v1.2.3 --checksums dist/checksums.txt [--dir npm]
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    version: { type: "string" },
    checksums: { type: "string" },
    dir: { type: "string", default: new URL("../npm", import.meta.url).pathname },
    repository: { type: "string" },
  },
});
const version = values.version?.replace(/^v/, "");
if (!version || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version) || !values.checksums) {
  console.error("usage: stamp_launcher.ts --version <semver> --checksums <checksums.txt> [--dir npm]");
  process.exit(2);
}
const sums = readFileSync(values.checksums);
if (!/^[0-9a-f]{64} [ *]?\S/m.test(sums.toString("utf8"))) {
  console.error(`stamp_launcher: ${values.checksums} does not look like a sha256 checksums file`);
  process.exit(1);
}
const dir = values.dir!;
const releasePath = join(dir, "release.json");
const release = JSON.parse(readFileSync(releasePath, "utf8"));
release.version = version;
release.checksumsSha256 = createHash("sha256").update(sums).digest("hex");
if (values.repository) release.repository = values.repository;
writeFileSync(releasePath, JSON.stringify(release, null, 2) + "\n");

const pkgPath = join(dir, "package.json");
const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
pkg.version = version;
writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + "\n");
console.error(`stamped ${dir}: talos-mcp@${version}, checksums.txt sha256 ${release.checksumsSha256}`);
