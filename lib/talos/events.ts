/**
 * @module Reading a node's Events stream: a bounded slice of an endless
 * stream (§5.5: it never ends by itself), and one line of meaning per event.
 * Used by talos_events and talos_node_summary.
 */
import { ToolError } from "../errors.ts";
import type { Event__Output } from "./proto_types/machine/Event.ts";
import type { TalosSession } from "./session.ts";
import { xidTime } from "./xid.ts";

/** The replay arrives in a burst; this long without a new event means it is over. */
const IDLE_MS = 400;

/** One message of the Events stream, as decoded. */
export type EventMsg = Event__Output;

/** An event's payload: an Any decoded by the loader (json: true), "@type" plus that event's fields. */
export function eventData(e: EventMsg): Record<string, any> {
  return e.data ?? {};
}

/** One compact line per event: what happened, in talosctl's words where it has them. */
export function describeEvent(e: EventMsg): string {
  const d = eventData(e);
  const type = (d["@type"] ?? "").replace(/^.*\/machine\./, "");
  const at = e.id ? xidTime(e.id) : undefined;
  const when = at ? new Date(at * 1000).toISOString().replace(".000Z", "Z") + " " : "";
  const actor = e.actor_id ? ` (actor ${e.actor_id})` : "";
  let what: string;
  switch (type) {
    case "SequenceEvent":
      what = `sequence ${d.sequence} ${String(d.action).toLowerCase()}${
        d.error?.message ? `: error ${d.error.message}` : ""
      }`;
      break;
    case "PhaseEvent":
      what = `phase ${d.phase} ${String(d.action).toLowerCase()}`;
      break;
    case "TaskEvent":
      what = `task ${d.task} ${String(d.action).toLowerCase()}`;
      break;
    case "ServiceStateEvent": {
      const h = d.health;
      const health = !h || h.unknown ? "" : h.healthy ? ", healthy" : ", unhealthy";
      what = `service ${d.service} ${String(d.action).toLowerCase()}${health}${d.message ? `: ${d.message}` : ""}`;
      break;
    }
    case "MachineStatusEvent": {
      const unmet = (d.status?.unmet_conditions ?? []).map((c: any) => `${c.name} (${c.reason})`);
      what = `machine ${String(d.stage).toLowerCase()}, ${d.status?.ready ? "ready" : "not ready"}` +
        (unmet.length ? `: unmet ${unmet.join(", ")}` : "");
      break;
    }
    case "AddressEvent":
      what = `addresses of ${d.hostname}: ${(d.addresses ?? []).join(", ")}`;
      break;
    case "ConfigLoadErrorEvent":
      what = `config load error: ${d.error}`;
      break;
    case "ConfigValidationErrorEvent":
      what = `config validation error: ${d.error}`;
      break;
    case "RestartEvent":
      what = `restart (cmd ${d.cmd})`;
      break;
    default:
      what = `${type || "event"}: ${JSON.stringify(d).slice(0, 200)}`;
  }
  return (when + what + actor).replace(/\s*\n\s*/g, " ");
}

/** How to read a bounded slice of the endless Events stream. */
export interface EventsRead {
  /** Replay the events of this many recent seconds (0: the last `tail_count` instead). */
  tail_seconds: number;
  /** At most this many events, the newest kept. */
  tail_count: number;
  signal: AbortSignal;
  /** Stop by then however the stream behaves; a stream not started by then is an error. */
  deadline_ms: number;
  /** This long without an event ends the replay (default 400 ms). */
  idle_ms?: number;
}

/**
 * The node's recent events, oldest first: the replay the request asks for,
 * without the empty first message. Ends once `tail_count` events arrived (no
 * time window) or the replay goes quiet, then cancels the stream.
 */
export async function readEvents(s: TalosSession, node: string, r: EventsRead): Promise<EventMsg[]> {
  // tail_events and tail_seconds are mutually exclusive on the wire (§5.5).
  const request = r.tail_seconds ? { tail_seconds: r.tail_seconds } : { tail_events: r.tail_count };
  const stop = new AbortController();
  const signal = AbortSignal.any([r.signal, stop.signal]);
  let idle: ReturnType<typeof setTimeout> | undefined;
  let activity = 0;
  const quiet = () => {
    clearTimeout(idle);
    const seen = ++activity;
    // Quiet means the time passed *and* nothing was waiting to be read. After a stall of this
    // process (a loaded machine) timers run before pending socket reads: the check is deferred to
    // after the I/O phase (setImmediate), so a replay already received is never cut for the stall.
    idle = setTimeout(() => setImmediate(() => seen === activity && stop.abort()), r.idle_ms ?? IDLE_MS);
  };
  const events: EventMsg[] = [];
  let hello = false;
  const overall = setTimeout(() => stop.abort(), r.deadline_ms);
  try {
    for await (
      const e of s.api.machine.Events(request, {
        node,
        signal,
        timeoutMs: r.deadline_ms + 500,
      })
    ) {
      if (!hello && !e.data) { // the empty first message: the subscription is live
        hello = true;
        quiet();
        continue;
      }
      hello = true;
      events.push(e);
      if (events.length > r.tail_count) events.shift();
      if (!r.tail_seconds && events.length >= r.tail_count) break;
      quiet();
    }
  } finally {
    clearTimeout(idle);
    clearTimeout(overall);
  }
  if (!hello && !r.signal.aborted) {
    throw new ToolError(
      `node ${node} did not start its event stream within ${r.deadline_ms} ms; it may be ` +
        `overloaded or rebooting; retry later, or raise TALOS_MCP_TIMEOUT_MS.`,
      "DEADLINE_EXCEEDED",
    );
  }
  return events;
}
