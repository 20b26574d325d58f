/** @module Which node versions the warm-up warns about. */
import { expect, test } from "bun:test";
import { versionWarning } from "../../lib/warmup.ts";

test.each([
  ["v1.9.0", false],
  ["v1.13.9", false],
  ["v1.14.0-beta.1", false],
  ["v1.8.3", true],
  ["v1.15.0", true],
  ["v2.0.0", true],
  ["main-abc", false],
])("%s warns: %p", (tag, warns) => {
  expect(versionWarning("n", tag) !== undefined).toBe(warns);
});
