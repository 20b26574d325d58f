// Checks Ruby files for syntax errors with Prism (Ruby's own parser, as WASM
// from the @ruby/prism npm package), so CI needs no Ruby. Plain JS under node:
// Bun's node:wasi lacks what @ruby/prism uses.
//   node --no-warnings scripts/ruby_syntax.mjs FILE...   prints errors, exits 1 if any
import { readFileSync } from "node:fs";
import { loadPrism } from "@ruby/prism";

const parse = await loadPrism();
let failed = false;
for (const file of process.argv.slice(2)) {
  const source = readFileSync(file, "utf8");
  const { errors } = parse(source);
  for (const e of errors) {
    const line = source.slice(0, e.location.startOffset).split("\n").length;
    console.error(`${file}:${line}: ${e.message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
