/**
 * @module What the etcd quorum guard and the upgrade health gate need to know:
 * the members (from any control plane that answers) and which of them are
 * healthy right now (each asked directly with EtcdStatus).
 */
import { ToolError } from "../errors.ts";
import type { TalosSession } from "./session.ts";

export interface EtcdMember {
  id: string;
  hostname: string;
  /** Host part of the member's client URL: the address to target it by. */
  host: string;
}

export interface EtcdView {
  members: EtcdMember[];
  /** Ids of members that answered EtcdStatus with no errors. */
  healthy: Set<string>;
  /** Targets that answered EtcdStatus, by their member id: matches even when a node is named by another address. */
  targetIds: Map<string, string>;
  /** The leader's member id, as the members that answered EtcdStatus report it; undefined without one. */
  leader?: string;
}

const PROBE_TIMEOUT_MS = 5_000;

/** An etcd member id (uint64, a decimal string on the wire) as talosctl prints it: 16 hex digits, exactly. */
export const memberHex = (id: string | number | undefined): string => BigInt(id ?? 0).toString(16).padStart(16, "0");

/** int64/uint64 counters: a number while exact, the decimal string beyond 2^53. */
export function count(n: string | number | undefined): number | string {
  const b = BigInt(n ?? 0);
  return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString();
}

function hostOf(url: string | undefined): string {
  if (!url) return "";
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return "";
  }
}

/**
 * The member list from the first of `candidates` that is a reachable member
 * (query_local, so it answers even without a leader), then EtcdStatus on every
 * member. Undefined members = no control plane answered.
 */
export async function etcdView(
  session: TalosSession,
  candidates: readonly string[],
  signal: AbortSignal,
  targets: readonly string[] = [],
): Promise<EtcdView> {
  const status = (node: string) =>
    session.api.machine.EtcdStatus({}, {
      node,
      signal,
      timeoutMs: PROBE_TIMEOUT_MS,
    });
  // Each target says itself whether it is a member (workers and down nodes fail: neither can cost quorum).
  const targetIds = new Map<string, string>();
  await Promise.all(targets.map(async (t) => {
    try {
      const id = (await status(t)).messages?.[0]?.member_status?.member_id;
      if (id) targetIds.set(t, String(id));
    } catch {
      // not a member, or not reachable
    }
  }));
  let members: EtcdMember[] | undefined;
  for (const node of candidates) {
    try {
      const res = await session.api.machine.EtcdMemberList(
        { query_local: true },
        { node, signal, timeoutMs: PROBE_TIMEOUT_MS },
      );
      members = (res.messages?.[0]?.members ?? []).map((m) => ({
        id: String(m.id),
        hostname: m.hostname,
        host: hostOf(m.client_urls?.[0] ?? m.peer_urls?.[0]),
      }));
      break;
    } catch {
      // a worker or an unreachable node: ask the next one
    }
  }
  if (!members) {
    throw new ToolError(
      `Cannot check etcd quorum: no control-plane node among ${candidates.join(", ")} answered EtcdMemberList. ` +
        `Check the control planes with talos_services first; nothing was changed.`,
      "UNAVAILABLE",
    );
  }
  const healthy = new Set<string>();
  let leader: string | undefined;
  await Promise.all(members.map(async (m) => {
    try {
      const st = (await status(m.host || m.hostname)).messages?.[0]?.member_status;
      if ((st?.errors ?? []).length === 0) healthy.add(m.id);
      if (st?.leader && st.leader !== "0") leader = String(st.leader);
    } catch {
      // Unreachable or etcd down: not healthy.
    }
  }));
  return { members, healthy, targetIds, ...(leader ? { leader } : {}) };
}

/** The member a node target names (by address or hostname), if any. */
export function memberFor(view: EtcdView, node: string, hostname?: string): EtcdMember | undefined {
  const id = view.targetIds.get(node);
  return view.members.find((m) =>
    m.id === id || m.host === node || m.hostname === node || (hostname && m.hostname === hostname)
  );
}
