/**
 * @module "Back and ready" after a reboot: every service running (or done) and none failing its health
 * check (ServiceList; the same rule as the summary's, lib/talos/diagnosis.ts). A node answering Version may still be starting etcd or kubelet; the next control plane
 * must not go down before this one serves again.
 */
import { ToolError } from "../errors.ts";
import { pause } from "./boot.ts";
import { serviceFine } from "./diagnosis.ts";
import type { TalosSession } from "./session.ts";

export interface ReadyOptions {
  pollMs: number;
  deadline: number;
  signal: AbortSignal;
  onPoll?: (waitingFor: string) => void;
}

/** The services of `node` that are not (yet) running and healthy; [] when it is ready. */
async function unreadyServices(session: TalosSession, node: string, signal: AbortSignal): Promise<string[]> {
  const res = await session.api.machine.ServiceList({}, { node, signal, timeoutMs: 5_000 });
  return (res.messages?.[0]?.services ?? [])
    .filter((s) => !serviceFine(s))
    .map((s) => `${s.id} (${s.state}${s.health?.last_message ? `: ${s.health.last_message}` : ""})`);
}

/**
 * Polls until every service of `node` is running and healthy, bounded by the deadline; throws a
 * ToolError naming the services still not ready.
 */
export async function waitForReady(session: TalosSession, node: string, o: ReadyOptions): Promise<void> {
  let last = "no answer";
  for (;;) {
    try {
      const bad = await unreadyServices(session, node, o.signal);
      if (!bad.length) return;
      last = bad.join(", ");
    } catch (err) {
      if (o.signal.aborted) throw err;
      last = err instanceof ToolError ? err.message : String(err);
    }
    o.onPoll?.(last);
    if (Date.now() + o.pollMs > o.deadline) {
      throw new ToolError(
        `node ${node} came back but is not ready before the deadline (TALOS_MCP_WAIT_TIMEOUT_MS): ${last}. ` +
          `Check it with talos_services and talos_logs before going on.`,
        "DEADLINE_EXCEEDED",
      );
    }
    await pause(o.pollMs, o.signal);
  }
}
