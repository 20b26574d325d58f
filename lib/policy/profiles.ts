/**
 * @module Safety profiles (TALOS_MCP_PROFILE, a policy file's `profile`, a grant's `profile`): readonly,
 * operator, admin. Each tool declares its risk (lib/tools/define.ts `risk`); a profile admits the risks up
 * to its own. Profiles only ever narrow: where several apply, the narrowest wins.
 */

export const PROFILES = ["readonly", "operator", "admin"] as const;
export type Profile = typeof PROFILES[number];

/**
 * What a tool can do, as the least profile that may use it:
 * - read: reads only, nothing changed anywhere (readonly);
 * - operate: disruptive but reversible operations that keep the config: reboots, service actions, image
 *   pulls, etcd maintenance, shutdown, backups to a local file (operator);
 * - change: config changes, upgrades, rollbacks, resets, bootstrap, META, credentials (admin).
 */
const RISKS = ["read", "operate", "change"] as const;
export type Risk = typeof RISKS[number];

const RANK: Readonly<Record<Profile, number>> = { readonly: 0, operator: 1, admin: 2 };
const NEEDS: Readonly<Record<Risk, Profile>> = { read: "readonly", operate: "operator", change: "admin" };

/** The least profile a risk needs; an unclassified tool (undefined) needs admin: fail closed. */
export const profileFor = (risk: Risk | undefined): Profile => (risk ? NEEDS[risk] : "admin");

export function profileAllows(profile: Profile, risk: Risk | undefined): boolean {
  return RANK[profile] >= RANK[profileFor(risk)];
}

/** The narrowest of the profiles given (undefined entries are ignored; none given: admin). */
export function narrowest(...profiles: ReadonlyArray<Profile | undefined>): Profile {
  let out: Profile = "admin";
  for (const p of profiles) if (p && RANK[p] < RANK[out]) out = p;
  return out;
}

export const isProfile = (s: unknown): s is Profile => (PROFILES as readonly unknown[]).includes(s);

/** What a profile admits, for refusals. */
export const PROFILE_ABOUT: Readonly<Record<Profile, string>> = {
  readonly: "tools that only read (nothing that changes a cluster or writes a file)",
  operator: "reads plus reboots, shutdowns, service actions, image pulls, etcd maintenance and local backups " +
    "(no config changes, upgrades, rollbacks, resets or credentials)",
  admin: "every tool",
};
