/** @module Log lines go to stderr only, at or above the level, with secrets masked. */
import { afterEach, expect, test } from "bun:test";
import { log, setLevel } from "../../lib/log.ts";

const write = process.stderr.write;
afterEach(() => {
  process.stderr.write = write;
  setLevel("info");
});

/** Captures what `fn` writes to stderr. */
function stderrOf(fn: () => void): string {
  let out = "";
  process.stderr.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return out;
}

test("a log line quoting a secret (an error detail, a stack) is masked", () => {
  const line = stderrOf(() => log("error", "ApplyConfiguration failed: bootstrap token abcdef.0123456789abcdef"));
  expect(line).toContain("ERROR ApplyConfiguration failed: bootstrap token <masked: token>");
  expect(line).not.toContain("0123456789abcdef");
});

test("lines below the level are dropped", () => {
  setLevel("warning");
  expect(stderrOf(() => log("info", "quiet"))).toBe("");
  expect(stderrOf(() => log("error", "loud"))).toContain("ERROR loud");
});
