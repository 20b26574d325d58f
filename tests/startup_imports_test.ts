/**
 * @module What the stdio server loads before it answers initialize: the modules main.ts reaches through
 * static imports. grpc-js, the protos, the config validator, the simulator and the HTTP transport must load
 * on first use (dynamic import), or every session pays for them at start (a structural check, not a timing).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

/** Static, value-level import specifiers of a source file (`import type` and `import(...)` excluded). */
function staticImports(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s+(?!type\b)([^;]*?)\bfrom\s*"([^"]+)"/gm)) {
    // `import { type A, type B } from` brings in nothing at run time.
    const names = m[1].replace(/[{}\s]/g, "");
    if (names && names.split(",").every((n) => n.startsWith("type") || n === "")) continue;
    out.push(m[2]);
  }
  for (const m of source.matchAll(/^\s*import\s*"([^"]+)"/gm)) out.push(m[1]);
  return out;
}

/** Every module main.ts reaches through static imports: local files (repo-relative) and packages. */
function startupGraph(): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(readFileSync(join(ROOT, file), "utf8"))) {
      if (!spec.startsWith(".")) {
        if (!spec.startsWith("node:")) packages.add(spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/"));
        continue;
      }
      const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
      if (/\.(ts|js)$/.test(target) && existsSync(join(ROOT, target))) visit(target);
    }
  };
  visit("main.ts");
  return { files, packages };
}

describe("start-up imports", () => {
  const { files, packages } = startupGraph();

  test("the walk sees the server (the parser works)", () => {
    expect(files.has("lib/server.ts")).toBe(true);
    expect(packages.has("@modelcontextprotocol/sdk")).toBe(true);
  });

  test.each(["@grpc/grpc-js", "@grpc/proto-loader", "protobufjs", "jose"])(
    "%s loads on first use, not at start",
    (pkg) => expect(packages.has(pkg)).toBe(false),
  );

  test.each(["lib/talos/client.ts", "lib/talos/insecure.ts", "lib/talos/protos.ts", "lib/talos/config_validate.ts"])(
    "%s loads on first use, not at start",
    (file) => expect(files.has(file)).toBe(false),
  );

  test("neither the simulator nor the HTTP transport is loaded by the stdio server", () => {
    expect([...files].filter((f) => f.startsWith("lib/sim/") || f.startsWith("lib/http/"))).toEqual([]);
  });
});
