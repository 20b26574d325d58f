/** @module lib/talos/proto_types/ is what scripts/gen_types.ts makes of proto/ today (regenerate with it when this fails). */
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { generateTypes, TYPES_DIR } from "../../scripts/gen_types.ts";

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.set(relative(dir, path), readFileSync(path, "utf8"));
  }
  return out;
}

test("the committed proto types are fresh: bun scripts/gen_types.ts regenerates them", () => {
  const dir = mkdtempSync(join(tmpdir(), "proto-types-"));
  try {
    generateTypes(dir);
    const fresh = files(dir);
    const committed = files(TYPES_DIR);
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    const stale = [...fresh].filter(([path, text]) => committed.get(path) !== text).map(([path]) => path);
    expect(stale).toEqual([]);
    expect(fresh.size).toBeGreaterThan(100); // the generator ran and wrote the whole API
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
