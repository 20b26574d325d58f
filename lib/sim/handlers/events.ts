/**
 * @module Simulated Events: an empty "hello" event, then the replay asked for
 * (tail_events / tail_seconds / tail_id, mutually exclusive), then nothing
 * until the client cancels — the real stream never ends by itself.
 */
import { randomBytes } from "node:crypto";
import { xidEncode } from "../xid.ts";
import type { SimNode } from "../model.ts";
import { Code, type HandlerTable, SimError } from "./types.ts";

const M = "/machine.MachineService/";
const T = (name: string) => `talos/runtime/machine.${name}`;

interface SimEvent {
  at: number; // Unix seconds
  data: Record<string, unknown>;
  actor?: string;
}

function xid(at: number, seq: number): string {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(at, 0);
  randomBytes(5).copy(b, 4);
  b.writeUIntBE(seq, 9, 3);
  return xidEncode(b);
}

/** The node's event history: its boot an hour ago, then a few recent happenings. */
function history(node: SimNode, now: number): SimEvent[] {
  const boot = now - 3600;
  const ev: SimEvent[] = [];
  const add = (at: number, type: string, payload: Record<string, unknown>) =>
    ev.push({ at, data: { "@type": T(type), ...payload } });
  add(boot, "SequenceEvent", { sequence: "boot", action: "START" });
  add(boot + 1, "PhaseEvent", { phase: "startEverything", action: "START" });
  add(boot + 1, "TaskEvent", { task: "startAllServices", action: "START" });
  for (const s of node.services) {
    add(boot + 2, "ServiceStateEvent", { service: s.id, action: "PREPARING", message: "Running pre state" });
    add(boot + 3, "ServiceStateEvent", {
      service: s.id,
      action: "RUNNING",
      message: "Health check successful",
      health: { unknown: s.healthy === null, healthy: s.healthy === true, last_message: "" },
    });
  }
  add(boot + 4, "AddressEvent", { hostname: node.hostname, addresses: [node.ip] });
  add(boot + 5, "PhaseEvent", { phase: "startEverything", action: "STOP" });
  add(boot + 5, "SequenceEvent", { sequence: "boot", action: "STOP" });
  add(boot + 6, "MachineStatusEvent", { stage: "RUNNING", status: { ready: true, unmet_conditions: [] } });
  // A config warning at boot (a deprecated field), long before any recent window.
  add(boot + 7, "ConfigValidationErrorEvent", {
    error: "1 error occurred:\n\t* warning: .machine.install.image is deprecated",
  });
  // Recent: a service that is currently unhealthy says so; then whatever a test or scenario added.
  for (const s of node.services.filter((s) => s.healthy === false)) {
    add(now - 60, "ServiceStateEvent", {
      service: s.id,
      action: "RUNNING",
      message: `Health check failed: ${s.message}`,
      health: { unknown: false, healthy: false, last_message: s.message },
    });
  }
  for (const r of node.recentEvents ?? []) add(now - r.secondsAgo, r.type, r.data);
  return ev.sort((a, b) => a.at - b.at);
}

export const eventHandlers: HandlerTable = {
  unary: {},
  stream: {
    [`${M}Events`]: async ({ node, signal }, req, send) => {
      const tailEvents = Number(req.tail_events ?? 0);
      const tailSeconds = Number(req.tail_seconds ?? 0);
      const set = [tailEvents !== 0, tailSeconds !== 0, !!req.tail_id].filter(Boolean).length;
      if (set > 1) {
        throw new SimError(Code.INVALID_ARGUMENT, "tail_events, tail_id and tail_seconds are mutually exclusive");
      }
      const now = Math.floor(Date.now() / 1000);
      const all = history(node, now).map((e, i) => ({ ...e, id: xid(e.at, i) }));
      let replay = [] as typeof all;
      if (tailEvents < 0) replay = all;
      else if (tailEvents > 0) replay = all.slice(-tailEvents);
      else if (tailSeconds > 0) replay = all.filter((e) => e.at >= now - tailSeconds);
      await send({}); // the empty hello: the subscription is live
      for (const e of replay) {
        await send({ id: e.id, actor_id: e.actor ?? "", data: e.data });
      }
      // Live events would follow; the stream ends only when the client cancels.
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    },
  },
};
