/**
 * @module The etcd quorum rule. Refuse a call whose quorum loss ordering or
 * waiting would avoid (another member already unhealthy, several control
 * planes at once when one at a time keeps quorum); let through, and say so,
 * the loss a one- or two-member etcd cannot avoid (any member down is an
 * outage there). Pure; the facts come from lib/talos/etcd_health.ts.
 */
import { type EtcdMember, type EtcdView, memberFor } from "./etcd_health.ts";

const name = (m: EtcdMember) => (m.host && m.host !== m.hostname ? `${m.hostname} (${m.host})` : m.hostname);

/**
 * What taking targets down does to etcd. `refusal`: do not go on (why, and what to do instead).
 * `outage`: go on, but etcd and the Kubernetes API stop until the nodes are back (the cluster is too small
 * to avoid it). `waitCanHelp`: the refusal is due to members that are unhealthy now and may recover.
 */
export type QuorumVerdict =
  | { kind: "safe" }
  | { kind: "outage"; outage: string }
  | { kind: "refused"; refusal: string; waitCanHelp: boolean };

/** How the call takes targeted members down: all at once, or one at a time (the tool serialises them). */
export type EtcdImpact = "together" | "one-by-one";

/**
 * The verdict for taking `targets` down. `cluster` names the cluster in the outage text (the talosconfig
 * context); `verb` starts the refusal ("talos_reboot on").
 */
export function quorumVerdict(
  view: EtcdView,
  targets: readonly string[],
  impact: EtcdImpact,
  verb: string,
  cluster: string,
): QuorumVerdict {
  const targeted = [...new Set(targets.map((t) => memberFor(view, t)).filter((m): m is EtcdMember => !!m))];
  if (targeted.length === 0) return { kind: "safe" };
  const total = view.members.length;
  const needed = Math.floor(total / 2) + 1;
  const healthy = view.members.filter((m) => view.healthy.has(m.id));
  const unhealthy = view.members.filter((m) => !view.healthy.has(m.id));
  const targetedHealthy = targeted.filter((m) => view.healthy.has(m.id));
  const lost = impact === "together" ? targetedHealthy.length : Math.min(1, targetedHealthy.length);
  const left = healthy.length - lost;
  // Taking down only members that are unhealthy already costs nothing (and rebooting one may heal it).
  if (lost === 0 || left >= needed) return { kind: "safe" };

  // One or two members, all healthy: losing any one of them loses quorum whatever the order. That is the
  // nature of the cluster, not a mistake to prevent; the caller says what it costs.
  if (unhealthy.length === 0 && total - 1 < needed) {
    const who = targeted.map(name);
    const until = impact === "one-by-one" && who.length > 1
      ? `while each of ${who.join(", ")} is down`
      : `until ${who.join(" and ")} ${who.length > 1 ? "are" : "is"} back`;
    return {
      kind: "outage",
      outage: `etcd and the Kubernetes API of cluster "${cluster}" are unavailable ${until}: etcd has ` +
        `${total} member${total > 1 ? "s" : ""}, so it cannot keep quorum without ${total > 1 ? "all of them" : "it"}.`,
    };
  }

  const down = unhealthy.length ? ` Unhealthy now: ${unhealthy.map(name).join(", ")}.` : "";
  const instead = healthy.length < needed
    ? `etcd has already lost quorum; recover the unhealthy members first (talos_services, etcd logs) — ` +
      `do not take more control planes down.`
    : unhealthy.length
    ? `Bring the unhealthy members back first and check etcd health, then retry.`
    : `Act on one control-plane node at a time and wait for etcd to be healthy in between.`;
  return {
    kind: "refused",
    refusal: `Refused: ${verb} ${targeted.map(name).join(", ")} would leave etcd with ${left} of ${total} ` +
      `members healthy; quorum needs ${needed}.${down} ${instead} Nothing was changed.`,
    waitCanHelp: unhealthy.length > 0,
  };
}
