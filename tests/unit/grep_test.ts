/** @module grep filters: RE2 semantics for ordinary patterns, linear time for evil ones, clear refusals. */
import { describe, expect, test } from "bun:test";
import { compileGrep, grepProblem } from "../../lib/grep.ts";
import { tailLines } from "../../lib/talos/bounded.ts";

async function* once(text: string) {
  yield { bytes: Buffer.from(text) };
}

const LOG = Array.from({ length: 3000 }, (_, i) =>
  [
    `2025-01-01T00:00:${String(i % 60).padStart(2, "0")}Z etcd: apply request took too long took=${i}ms`,
    `2025-01-01T00:01:00Z kubelet: E0101 pod=web-${i} status=FAIL reason=OOMKilled`,
    `2025-01-01T00:02:00Z kubelet: I0101 pod=db-${i} status=ok`,
    `kern: warning: [${i}.5]: eth0: link down`,
  ][i % 4]).join("\n");

describe("grep", () => {
  test("ordinary patterns keep exactly the lines the runtime's RegExp keeps (case-insensitive)", async () => {
    const patterns = [
      "took too LONG",
      "warn|fail",
      "^2025-\\d{2}-\\d{2}T",
      "pod=web-1\\d*\\s",
      "status=(ok|fail)$",
      "\\boom",
      "[a-z]+=\\d+ms$",
      "eth0: link (up|down)",
      "nothing-matches-this",
    ];
    for (const p of patterns) {
      const re2 = await tailLines(once(LOG), { lines: 10_000, grep: compileGrep(p) });
      const js = await tailLines(once(LOG), { lines: 10_000, grep: new RegExp(p, "i") });
      expect({ p, lines: re2.lines, matched: re2.matched }).toEqual({ p, lines: js.lines, matched: js.matched });
    }
    expect((await tailLines(once(LOG), { lines: 5, grep: compileGrep("warn|fail") })).matched).toBe(1500);
  });

  test("patterns that backtrack exponentially in RegExp give the right answer over long lines", async () => {
    // 2,000 lines of 2,047 "a" then "b", and one line of "a" only: (a|aa)+$ is exponential per line for a
    // backtracking engine (it would not finish), linear for RE2. Only the last line matches.
    const bad = "a".repeat(2047) + "b\n";
    const text = bad.repeat(2000) + "a".repeat(2000) + "\n";
    for (const p of ["(a|aa)+$", "(a+)+$", "^(a|a?)+$", "(.*a){12}$"]) {
      const t = await tailLines(once(text), { lines: 3, grep: compileGrep(p) });
      expect({ p, matched: t.matched, scanned: t.scanned }).toEqual({ p, matched: 1, scanned: 2001 });
      expect(t.lines).toEqual(["a".repeat(2000)]);
    }
  });

  test("syntax RE2 lacks is refused naming the construct", () => {
    expect(grepProblem("(a)\\1")).toContain("backreferences");
    expect(grepProblem("foo(?=bar)")).toContain("lookahead and lookbehind");
    expect(grepProblem("(?<!x)foo")).toContain("lookahead and lookbehind");
    expect(grepProblem("(?>a)")).toContain("atomic groups");
    expect(grepProblem("a++")).toContain("possessive");
    expect(grepProblem("\\u0041")).toContain("\\x{263A}");
    for (const p of ["(a)\\1", "foo(?=bar)"]) expect(grepProblem(p)).toContain("RE2");
  });

  test("a broken pattern says what is wrong", () => {
    expect(grepProblem("(")).toBe("grep is not a valid RE2 regular expression: missing closing ): `(`");
    expect(grepProblem("[a-")).toStartWith("grep is not a valid RE2 regular expression: ");
    expect(grepProblem("a{2000}")).toContain("invalid repeat count");
    expect(grepProblem("error|warn")).toBeUndefined();
  });
});
