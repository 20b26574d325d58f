/**
 * @module The path guard, pure: a table of hostile paths, the segment-boundary rule,
 * and property tests that no accepted path escapes its allowed prefix.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ConfigError, loadConfig } from "../../lib/config.ts";
import { checkPath, isUnder, normalisePath, parseAllowedPaths, PathError } from "../../lib/policy/paths.ts";

const ALLOWED = ["/etc", "/proc"];

describe("hostile paths are refused, whatever the allowlist", () => {
  test.each([
    ["", /empty/],
    ["etc/passwd", /relative/],
    ["./etc/passwd", /relative/],
    ["~/.ssh/id_rsa", /relative/],
    ["/etc/../system/secrets/etcd/peer.key", /\.\. segment/],
    ["/etc/..", /\.\. segment/],
    ["/..", /\.\. segment/],
    ["/etc/./passwd", /\. segment/],
    ["/etc//passwd", /empty segment/],
    ["//etc/passwd", /empty segment/],
    ["/etc/passwd\u0000.txt", /NUL or control/],
    ["/etc/pass\nwd", /NUL or control/],
    ["/etc/%2e%2e/system/secrets", /percent-encoding/],
    ["/etc/%2E%2E/system", /percent-encoding/],
    ["/etc%2fpasswd", /percent-encoding/],
    ["/etc/%00", /percent-encoding/],
    ["/etc\\..\\system", /backslash/],
    ["/" + "a".repeat(5000), /longer than/],
  ])("%j", (raw, why) => {
    expect(() => checkPath(raw, [])).toThrow(why);
    expect(() => checkPath(raw, ALLOWED)).toThrow(PathError);
  });
});

describe("the allowlist", () => {
  test.each([
    ["/etc", true],
    ["/etc/", true],
    ["/etc/hosts", true],
    ["/etc/kubernetes/pki/ca.crt", true],
    ["/proc/loadavg", true],
    ["/etcx/passwd", false],
    ["/etc-backup/hosts", false],
    ["/proc2", false],
    ["/", false],
    ["/system/secrets/etcd/peer.key", false],
    ["/var/lib/etcd/member/snap/db", false],
  ])("%s allowed: %p", (raw, ok) => {
    if (ok) expect(checkPath(raw, ALLOWED)).toBe(raw === "/etc/" ? "/etc" : raw);
    else expect(() => checkPath(raw, ALLOWED)).toThrow(/outside the allowed paths/);
  });

  test("no allowlist: any well-formed absolute path, normalised", () => {
    expect(checkPath("/var/log/", [])).toBe("/var/log");
    expect(checkPath("/", [])).toBe("/");
  });

  test("a root prefix allows everything; prefixes are normalised and deduplicated", () => {
    expect(isUnder("/system/secrets", "/")).toBe(true);
    expect(parseAllowedPaths(["/etc/", "/etc", "/proc"])).toEqual(["/etc", "/proc"]);
    expect(() => parseAllowedPaths(["etc"])).toThrow(/relative/);
    expect(() => parseAllowedPaths(["/etc/../"])).toThrow(/\.\./);
  });

  test("a bad TALOS_MCP_ALLOWED_PATHS stops the server at start, naming the variable", () => {
    expect(loadConfig({ TALOS_MCP_ALLOWED_PATHS: " /etc/ , /proc" }).allowedPaths).toEqual(["/etc", "/proc"]);
    expect(() => loadConfig({ TALOS_MCP_ALLOWED_PATHS: "/etc,var/log" })).toThrow(ConfigError);
    expect(() => loadConfig({ TALOS_MCP_ALLOWED_PATHS: "/etc,var/log" })).toThrow(
      /TALOS_MCP_ALLOWED_PATHS: .*relative/,
    );
  });
});

/** Path segments including the ones attackers like. */
const segment = fc.oneof(
  fc.constantFrom("..", ".", "", "etc", "etcx", "proc", "system", "secrets", "%2e%2e", "%2f", "\u0000", "..."),
  fc.stringMatching(/^[a-z0-9._-]{1,8}$/),
  fc.string({ maxLength: 6 }),
);
const rawPath = fc.tuple(fc.boolean(), fc.array(segment, { maxLength: 8 }), fc.boolean()).map(
  ([abs, segs, trailing]) => (abs ? "/" : "") + segs.join("/") + (trailing ? "/" : ""),
);
const prefixes = fc.array(
  fc.array(fc.stringMatching(/^[a-z0-9_-]{1,6}$/), { minLength: 1, maxLength: 3 }).map((s) => "/" + s.join("/")),
  { minLength: 1, maxLength: 3 },
);

/** Resolves `.` and `..` the way the node's kernel would. */
function resolveLikeKernel(path: string): string {
  const out: string[] = [];
  for (const s of path.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") out.pop();
    else out.push(s);
  }
  return "/" + out.join("/");
}

describe("properties", () => {
  test("an accepted path, as the node resolves it, stays under an allowed prefix", () => {
    let acceptedCount = 0;
    // Half the attempts start inside an allowed prefix and try to climb out of it.
    const attempt = fc.tuple(prefixes, fc.nat(), fc.boolean(), rawPath).map(([allowed, i, inside, raw]) => ({
      allowed,
      raw: inside ? allowed[i % allowed.length] + (raw.startsWith("/") ? raw : "/" + raw) : raw,
    }));
    fc.assert(
      fc.property(attempt, ({ raw, allowed }) => {
        let accepted: string;
        try {
          accepted = checkPath(raw, allowed);
        } catch (err) {
          expect(err).toBeInstanceOf(PathError);
          return;
        }
        acceptedCount++;
        const resolved = resolveLikeKernel(raw);
        expect(accepted).toBe(resolved);
        expect(allowed.some((p) => resolved === p || resolved.startsWith(p + "/"))).toBe(true);
        expect(accepted.includes("\u0000")).toBe(false);
        expect(accepted).not.toMatch(/%[0-9a-f]{2}|\/\/|\/\.\.?(\/|$)/i);
      }),
      { numRuns: 5000 },
    );
    expect(acceptedCount).toBeGreaterThan(250); // the property saw many accepted paths, not just refusals
  });

  test("normalising is idempotent, and children of an allowed path are allowed", () => {
    fc.assert(
      fc.property(prefixes, fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { maxLength: 4 }), (allowed, rest) => {
        const path = [allowed[0], ...rest].join("/");
        const n = checkPath(path, allowed);
        expect(normalisePath(n)).toBe(n);
        expect(checkPath(n + "/", allowed)).toBe(n);
      }),
    );
  });

  test("a sibling that only shares a string prefix is never allowed", () => {
    fc.assert(
      fc.property(prefixes, fc.stringMatching(/^[a-z0-9_-]{1,4}$/), (allowed, tail) => {
        const sibling = allowed[0] + tail;
        const ok = allowed.some((p) => sibling === p || sibling.startsWith(p + "/"));
        if (ok) return;
        expect(() => checkPath(sibling, allowed)).toThrow(/outside the allowed paths/);
      }),
    );
  });
});
