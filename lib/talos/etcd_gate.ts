/**
 * @module The etcd gate before taking one more control plane down during a rolling change (upgrades): the
 * quorum rule (quorum.ts) asked again before each node, polling only while waiting can help.
 */
import { messageOf, ToolError } from "../errors.ts";
import { pause } from "./boot.ts";
import { etcdView, memberFor } from "./etcd_health.ts";
import { quorumVerdict } from "./quorum.ts";
import { type TalosSession, targetNodes } from "./session.ts";

export interface GateOptions {
  signal: AbortSignal;
  pollMs: number;
  /** Epoch ms; the gate gives up (with the refusal) rather than poll past it. */
  deadline: number;
  note: (message: string) => void;
}

/**
 * Whether `node` may go down now. Decides at once when waiting cannot change the answer; polls (bounded
 * by the deadline, cancellable, with progress) only while the members keeping etcd from quorum are
 * control planes this call has just taken down (`ours`) and is waiting on to rejoin.
 */
export async function etcdGate(
  session: TalosSession,
  node: string,
  ours: readonly string[],
  o: GateOptions,
): Promise<{ refusal: string } | { outage?: string }> {
  for (;;) {
    let refusal: string;
    let waitCanHelp: boolean;
    try {
      // `node` asked too, so a node named by another address than its etcd URL still matches its member.
      const view = await etcdView(session, [...new Set([node, ...targetNodes(session.ctx)])], o.signal, [node]);
      const verdict = quorumVerdict(view, [node], "one-by-one", "upgrading", session.ctx.name);
      if (verdict.kind === "safe") return {};
      if (verdict.kind === "outage") return { outage: verdict.outage };
      refusal = verdict.refusal;
      // Only members this call took down are known to be coming back.
      const mine = new Set(ours.map((n) => memberFor(view, n, session.hostnames.get(n))?.id));
      waitCanHelp = verdict.waitCanHelp && view.members.every((m) => view.healthy.has(m.id) || mine.has(m.id));
    } catch (err) {
      if (o.signal.aborted) throw err;
      refusal = err instanceof ToolError ? err.message : messageOf(err);
      waitCanHelp = ours.length > 0; // no control plane answered: only ours can bring one back
    }
    if (!waitCanHelp || Date.now() + o.pollMs > o.deadline) return { refusal };
    o.note(`waiting for etcd to be healthy before upgrading ${node}`);
    // Cancellable: a cancelled call (or the HTTP call deadline) must not keep polling etcd until the wait timeout.
    await pause(o.pollMs, o.signal);
  }
}
