/**
 * @module The docs stay true: docs/tools.md is what scripts/gen_tools_doc.ts makes
 * of the reviewed tools/list snapshots, and every relative markdown link in
 * README.md, CONTRIBUTING.md and docs/ points at a file (and heading) that exists.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { renderToolsDoc, TOOLS_DOC } from "../scripts/gen_tools_doc.ts";

const ROOT = join(import.meta.dir, "..");

test("docs/tools.md is generated from the current tools/list snapshot", () => {
  const stale = readFileSync(TOOLS_DOC, "utf8") !== renderToolsDoc();
  if (stale) throw new Error("docs/tools.md is stale: regenerate it with `npx bun scripts/gen_tools_doc.ts`");
});

const FENCED = /^```[\s\S]*?^```/gm;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

/** Anchors of a markdown file's headings, with GitHub's -1, -2 suffixes for repeats. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of markdown.replace(FENCED, "").split("\n")) {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** The text without fenced code blocks and inline code spans (links there are not links). */
function withoutCode(markdown: string): string {
  return markdown.replace(FENCED, "").replace(/`[^`\n]*`/g, "");
}

/** Relative link targets of a markdown file: `[text](target)`, web and mail links left out. */
function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of withoutCode(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1])) out.push(m[1]);
  }
  return out;
}

/** Broken relative links of one file, as "file: target (why)". */
function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const target of relativeLinks(readFileSync(file, "utf8"))) {
    const [path, hash] = target.split("#", 2);
    const dest = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
    const name = `${relative(ROOT, file)}: ${target}`;
    if (!existsSync(dest)) broken.push(`${name} (no such file)`);
    else if (hash !== undefined && statSync(dest).isFile() && !anchors(readFileSync(dest, "utf8")).has(hash)) {
      broken.push(`${name} (no heading with that anchor)`);
    }
  }
  return broken;
}

const DOCS = [
  join(ROOT, "README.md"),
  join(ROOT, "CONTRIBUTING.md"),
  ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(ROOT, "docs", f)),
];

describe("markdown links", () => {
  test("the anchor rules match GitHub's", () => {
    expect(slug("Least privilege")).toBe("least-privilege");
    expect(slug("`talos_get`")).toBe("talos_get");
    expect(slug("Streamable HTTP: one server for a team")).toBe("streamable-http-one-server-for-a-team");
    expect(relativeLinks("[a](x.md#y) [b](https://e.org) `[c](no.md)`\n```\n[d](z.md)\n```\n")).toEqual(["x.md#y"]);
  });

  test("a broken link is reported", () => {
    const dir = join(ROOT, "tests/fixtures");
    expect(brokenLinks(join(dir, "broken_links.md")).sort()).toEqual([
      "tests/fixtures/broken_links.md: ../../README.md#no-such-heading (no heading with that anchor)",
      "tests/fixtures/broken_links.md: missing.md (no such file)",
    ]);
  });

  test.each(DOCS.map((f) => [relative(ROOT, f), f]))("%s links resolve", (_, file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});
