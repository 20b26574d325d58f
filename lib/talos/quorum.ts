/**
 * @module The etcd quorum rule: refuse a call that would leave etcd with fewer
 * healthy members than a quorum (more than half of all members). Pure; the
 * facts come from lib/talos/etcd_health.ts.
 */
import { type EtcdMember, type EtcdView, memberFor } from "./etcd_health.ts";

const name = (m: EtcdMember) => (m.host && m.host !== m.hostname ? `${m.hostname} (${m.host})` : m.hostname);

/**
 * Why taking `targets` down would break quorum, or undefined when it is safe.
 * "together": all targeted members go down at once; "one-by-one": one at a time.
 */
export function quorumRefusal(
  view: EtcdView,
  targets: readonly string[],
  impact: "together" | "one-by-one",
  verb: string,
): string | undefined {
  const targeted = [...new Set(targets.map((t) => memberFor(view, t)).filter((m): m is EtcdMember => !!m))];
  if (targeted.length === 0) return undefined;
  const total = view.members.length;
  const needed = Math.floor(total / 2) + 1;
  const healthy = view.members.filter((m) => view.healthy.has(m.id));
  const unhealthy = view.members.filter((m) => !view.healthy.has(m.id));
  const lost = impact === "together"
    ? targeted.filter((m) => view.healthy.has(m.id)).length
    : Math.min(1, targeted.filter((m) => view.healthy.has(m.id)).length);
  const left = healthy.length - lost;
  if (left >= needed) return undefined;
  const down = unhealthy.length ? ` Unhealthy now: ${unhealthy.map(name).join(", ")}.` : "";
  const instead = healthy.length < needed
    ? `etcd has already lost quorum; recover the unhealthy members first (talos_services, etcd logs) — ` +
      `do not take more control planes down.`
    : unhealthy.length
    ? `Bring the unhealthy members back first and check etcd health, then retry.`
    : `Act on one control-plane node at a time and wait for etcd to be healthy in between.`;
  return `Refused: ${verb} ${targeted.map(name).join(", ")} would leave etcd with ${left} of ${total} ` +
    `members healthy; quorum needs ${needed}.${down} ${instead} Nothing was changed.`;
}
