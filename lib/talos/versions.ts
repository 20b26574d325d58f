/**
 * @module Talos version arithmetic: parsing tags (tolerant of the `v`, as
 * Talos' own semver.ParseTolerant is) and the upgrade-path rule — one minor
 * version per step, always to the latest patch of each minor on the way
 * (Talos' advice: configuration migrations are only tested between adjacent minors).
 */
import semver from "semver";

export interface TalosVersion {
  major: number;
  minor: number;
  patch: number;
  prerelease: boolean;
  raw: string;
}

/** Parses `v1.13.9`, `1.14.0-beta.1`, an installer image ref ending in such a tag; undefined otherwise. */
export function parseTalosVersion(input: string): TalosVersion | undefined {
  const tag = input.includes(":") && !input.includes("@") ? input.slice(input.lastIndexOf(":") + 1) : input;
  const v = semver.parse(tag.trim().replace(/^v/, ""), { loose: true });
  if (!v) return undefined;
  return { major: v.major, minor: v.minor, patch: v.patch, prerelease: v.prerelease.length > 0, raw: tag.trim() };
}

export type UpgradeCheck =
  | { kind: "ok" }
  | { kind: "unparsed"; reason: string }
  | { kind: "rejected"; reason: string; path: string[] };

/**
 * Whether `to` is at most one minor version from `from` (patch moves and
 * downgrades within a minor are fine). Unparseable tags (`:latest`, digests,
 * factory schematics without a version tag) are not checked.
 */
export function checkUpgradePath(from: string, to: string): UpgradeCheck {
  const a = parseTalosVersion(from);
  const b = parseTalosVersion(to);
  if (!a) return { kind: "unparsed", reason: `current version "${from}" is not a Talos version tag` };
  if (!b) return { kind: "unparsed", reason: `target "${to}" has no version tag to compare` };
  if (a.major !== b.major) {
    return {
      kind: "rejected",
      reason: `v${a.major}.x → v${b.major}.x crosses a major version; follow the Talos upgrade notes`,
      path: [],
    };
  }
  const step = b.minor - a.minor;
  if (step <= 1 && step >= -1) return { kind: "ok" };
  return {
    kind: "rejected",
    reason: `v${a.major}.${a.minor} → v${b.major}.${b.minor} skips ${Math.abs(step) - 1} minor version(s); ` +
      `Talos supports one minor version per step`,
    path: minorSteps(a, b),
  };
}

/** The minors to pass through, e.g. 1.11 → 1.14: ["v1.12.x", "v1.13.x", "v1.14.x"]. */
export function minorSteps(from: TalosVersion, to: TalosVersion): string[] {
  const dir = Math.sign(to.minor - from.minor);
  const out: string[] = [];
  for (let m = from.minor + dir; dir > 0 ? m <= to.minor : m >= to.minor; m += dir) {
    out.push(m === to.minor ? `v${to.major}.${to.minor}.${to.patch}` : `v${from.major}.${m}.x (latest patch)`);
  }
  return out;
}

/** Talos ≥ 1.13 upgrades through ImageService + LifecycleService (what talosctl does for >1.13.0-alpha.2). */
export function usesLifecycleUpgrade(tag: string): boolean {
  const v = parseTalosVersion(tag);
  return !!v && v.major === 1 && v.minor >= 13;
}
