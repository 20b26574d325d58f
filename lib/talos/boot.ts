/**
 * @module Telling that a node rebooted: its boot id (/proc/sys/kernel/random/boot_id,
 * read with MachineService.Read) changes. Reboot and upgrade RPCs return at
 * once and the node goes away asynchronously, so we poll until it answers with a new id.
 */
import { setTimeout as delay } from "node:timers/promises";
import { ToolError } from "../errors.ts";
import type { TalosSession } from "./session.ts";

const BOOT_ID = "/proc/sys/kernel/random/boot_id";
const POLL_TIMEOUT_MS = 5_000;

/** The node's boot id; undefined when the certificate may not Read (only os:admin may). */
export async function readBootId(
  session: TalosSession,
  node: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  try {
    return await bootId(session, node, signal);
  } catch (err) {
    if (err instanceof ToolError && err.code === "PERMISSION_DENIED") return undefined;
    throw err;
  }
}

async function bootId(session: TalosSession, node: string, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  for await (
    const msg of session.api.machine.Read({ path: BOOT_ID }, {
      node,
      signal,
      timeoutMs: POLL_TIMEOUT_MS,
    })
  ) chunks.push(Buffer.from(msg.bytes ?? []));
  return Buffer.concat(chunks).toString("utf8").trim();
}

export interface WaitOptions {
  /** Boot id before the reboot; without it, "back" means: seen unreachable, then answering. */
  before?: string;
  pollMs: number;
  deadline: number;
  signal: AbortSignal;
  /** Called after each poll that did not see the node back. */
  onPoll?: () => void;
}

/** Polls until `node` answers with a new boot id; returns it (or "" without one) and the polls it took. */
export async function waitForReboot(
  session: TalosSession,
  node: string,
  opts: WaitOptions,
): Promise<{ bootId: string; polls: number }> {
  let wentAway = false;
  for (let polls = 1;; polls++) {
    try {
      if (opts.before !== undefined) {
        const id = await bootId(session, node, opts.signal);
        if (id && id !== opts.before) return { bootId: id, polls };
      } else {
        await session.api.machine.Version({}, {
          node,
          signal: opts.signal,
          timeoutMs: POLL_TIMEOUT_MS,
        });
        if (wentAway) return { bootId: "", polls };
      }
    } catch (err) {
      if (opts.signal.aborted) throw err;
      wentAway = true; // rebooting nodes refuse or time out; keep polling until the deadline
    }
    opts.onPoll?.();
    if (Date.now() + opts.pollMs > opts.deadline) {
      throw new ToolError(
        `node ${node} did not come back with a new boot id before the deadline ` +
          `(TALOS_MCP_WAIT_TIMEOUT_MS). Check it with talos_version; it may still be booting or stuck.`,
        "DEADLINE_EXCEEDED",
      );
    }
    await pause(opts.pollMs, opts.signal);
  }
}

/** Waits `ms` between polls; a cancelled call ends the wait (and the polling) with a CANCELLED ToolError. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    throw new ToolError("cancelled while waiting for the node", "CANCELLED");
  }
}
