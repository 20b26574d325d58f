/**
 * @module Imports point one way: every lib/ file imports only from its own
 * layer or the layers below it, tools do not import each other, and the
 * simulator imports nothing of the product (so it stays an independent check
 * of the product's tables).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

/**
 * Lowest first. A file belongs to the first layer whose pattern matches it.
 * policy sits below config: config parses the allowlists with policy's own
 * parsers, so they are read once, by the code that applies them.
 */
const LAYERS: ReadonlyArray<[name: string, pattern: RegExp]> = [
  ["base", /^lib\/(errors|log|secrets|duration|deadline|version|local_file|format|fit|grep|progress|ambient\.d)\.ts$/],
  ["app view", /^lib\/apps\/view\.ts$/],
  ["policy", /^lib\/policy\//],
  ["config", /^lib\/config\.ts$/],
  ["talos", /^lib\/talos\//],
  ["tool kit", /^lib\/tools\/(define|params|per_node|schema)\.ts$/],
  ["tools", /^lib\/tools\/(?!(mod|toolsets)\.ts$)/],
  ["tool list", /^lib\/tools\/(mod|toolsets)\.ts$/],
  ["pipeline", /^lib\/guards\//],
  ["server", /^lib\/(server|resources|prompts|completion|warmup)\.ts$/],
  ["transports", /^lib\/(stdio\.ts|client_config\.ts|http\/|apps\/dashboard\.ts$)/], // what main.ts runs
  ["sim", /^lib\/sim\//],
];

/** Layers whose files must not import each other: each tool module stands alone on the tool kit. */
const NO_SIBLINGS = new Set(["tools"]);

/** What lib/sim may use of the product: the embedded proto/ subset (the wire contract both sides serve). */
const SIM_MAY_IMPORT = new Set(["lib/talos/protos.ts"]);

function libFiles(dir = join(ROOT, "lib")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "proto_types" ? [] : libFiles(path); // generated; imports only itself
    return e.name.endsWith(".ts") ? [relative(ROOT, path)] : [];
  });
}

/** Relative module specifiers: static imports and re-exports, `import type`, dynamic and type-position `import("…")`. */
export function importsOf(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*"(\.[^"]+)"/gm)) found.add(m[1]);
  for (const m of source.matchAll(/^\s*import\s*"(\.[^"]+)"/gm)) found.add(m[1]); // side effects only
  for (const m of source.matchAll(/\bimport\(\s*"(\.[^"]+)"\s*\)/g)) found.add(m[1]);
  return [...found];
}

function layerOf(file: string): number {
  const i = LAYERS.findIndex(([, pattern]) => pattern.test(file));
  if (i < 0) throw new Error(`${file} is in no layer: add it to LAYERS in tests/layers_test.ts`);
  return i;
}

/** Every lib/ import as [importer, imported], both relative to the repo root; embedded proto and HTML files excluded. */
function edges(): Array<[string, string]> {
  return libFiles().flatMap((file) =>
    importsOf(readFileSync(join(ROOT, file), "utf8"))
      .filter((spec) => !/\.(proto|html)$/.test(spec)) // embedded text, not code
      .map((spec): [string, string] => [file, relative(ROOT, resolve(ROOT, dirname(file), spec))])
  );
}

describe("layers", () => {
  test("the import parser sees every form we use", () => {
    const src = [
      `import { a } from "./a.ts";`,
      `import type { B } from "../b.ts";`,
      `export { c } from "./c.ts";`,
      `import {\n  d,\n  e,\n} from "./d.ts";`,
      `const f = await import("./f.ts");`,
      `let g: import("./g.ts").G;`,
      `import "./h.ts";`,
      `import * as v from "valibot";`,
    ].join("\n");
    expect(importsOf(src).sort()).toEqual(["../b.ts", "./a.ts", "./c.ts", "./d.ts", "./f.ts", "./g.ts", "./h.ts"]);
  });

  test("every lib/ file is in a layer", () => {
    for (const f of libFiles()) expect(() => layerOf(f)).not.toThrow();
    expect(libFiles().length).toBeGreaterThan(50);
  });

  test("no import points up a layer, and no tool imports another tool", () => {
    const sim = LAYERS.findIndex(([name]) => name === "sim");
    const bad: string[] = [];
    for (const [from, to] of edges()) {
      if (!to.startsWith("lib/")) continue; // e.g. proto/
      const [a, b] = [layerOf(from), layerOf(to)];
      if (a === sim || b === sim) continue; // the next test
      if (b > a) bad.push(`${from} imports ${to} (${LAYERS[a][0]} → ${LAYERS[b][0]})`);
      else if (a === b && NO_SIBLINGS.has(LAYERS[a][0])) bad.push(`${from} imports ${to} (one tool from another)`);
    }
    expect(bad).toEqual([]);
  });

  test("lib/sim imports nothing of the product but proto/, and the product nothing of lib/sim", () => {
    const bad: string[] = [];
    for (const [from, to] of edges()) {
      const fromSim = from.startsWith("lib/sim/");
      const toSim = to.startsWith("lib/sim/");
      if (fromSim && !toSim && !SIM_MAY_IMPORT.has(to)) bad.push(`${from} imports ${to}`);
      if (!fromSim && toSim) bad.push(`${from} imports ${to}`);
    }
    expect(bad).toEqual([]);
  });
});
