/**
 * @module Generates lib/talos/proto_types/ (TypeScript types for every message
 * and service in proto/) with proto-loader-gen-types, using the flags that
 * match how lib/talos/protos.ts decodes at runtime, so the types describe the
 * objects we really get. The output is committed; tests/unit/proto_types_test.ts
 * fails when it is stale.
 *
 *   bun scripts/gen_types.ts            rewrite lib/talos/proto_types/
 */
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { LOADER_OPTIONS, PROTO_SOURCES } from "../lib/talos/protos.ts";

export const ROOT = resolve(import.meta.dir, "..");
export const TYPES_DIR = join(ROOT, "lib/talos/proto_types");

/** The generator's flags, read off LOADER_OPTIONS so the two cannot disagree. */
export function generatorFlags(): string[] {
  const o = LOADER_OPTIONS;
  return [
    ...(o.keepCase ? ["--keepCase"] : []),
    `--longs=${o.longs.name}`,
    `--enums=${o.enums.name}`,
    ...(o.defaults ? ["--defaults"] : []),
    ...(o.oneofs ? ["--oneofs"] : []),
    ...(o.json ? ["--json"] : []),
    "--grpcLib=@grpc/grpc-js",
    "--importFileExtension=.ts",
  ];
}

/** Writes the generated types for proto/ into `outDir` (emptied first). */
export function generateTypes(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  const bin = createRequire(import.meta.url).resolve("@grpc/proto-loader/build/bin/proto-loader-gen-types.js");
  execFileSync(
    process.execPath,
    [bin, ...generatorFlags(), "-I", "proto", "-O", outDir, ...PROTO_SOURCES.map(([path]) => path)],
    // From the repo root: the "Original file:" headers name proto/… the same way on every machine.
    { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] },
  );
  // The top-level files type grpc.loadPackageDefinition's result, which we never use (we call
  // methods through lib/talos/api.ts); they also trip noUnusedLocals.
  for (const e of readdirSync(outDir, { withFileTypes: true })) {
    if (e.isFile()) rmSync(join(outDir, e.name));
  }
}

if (import.meta.main) generateTypes(TYPES_DIR);
