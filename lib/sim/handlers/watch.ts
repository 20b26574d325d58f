/**
 * @module Simulated COSI Watch, as Talos streams it: an empty first response, then the
 * current state (CREATED, or DESTROYED for a missing single resource; with
 * bootstrap_contents every resource then BOOTSTRAPPED), then live changes
 * as the cluster model reports them, until the client cancels.
 */
import { stringify } from "yaml";
import type { SimResource } from "../model.ts";
import { check, toWire } from "./cosi.ts";
import { Code, type HandlerTable, SimError } from "./types.ts";

type Versioned = { r: SimResource; version: number; text: string };

export const watchHandlers: HandlerTable = {
  unary: {},
  stream: {
    ["/cosi.resource.State/Watch"]: async (call, req, send) => {
      check(call, req.namespace, req.type);
      const single = typeof req.id === "string" && req.id !== "";
      if (single && req.options?.bootstrap_contents) {
        throw new SimError(Code.UNIMPLEMENTED, "bootstrap contents is not supported for single resource watch");
      }
      const events = req.api_version >= 1;
      const select = () =>
        call.cluster.resources(call.node).filter((r) =>
          r.namespace === req.namespace && r.type === req.type && (!single || r.id === req.id)
        );
      const wire = (v: Versioned) => toWire({ ...v.r, version: v.version });
      const known = new Map<string, Versioned>();
      for (const r of select()) known.set(r.id, { r, version: r.version, text: stringify(r.spec) });

      // Listen before sending anything, so no change between "established" and live events is lost;
      // changes queue behind the initial events.
      let pending: Promise<void> = (async () => {
        await send({ event: [] });
        if (single) {
          const v = known.get(req.id);
          await send({
            event: [
              v ? { event_type: "CREATED", resource: wire(v) } : {
                event_type: "DESTROYED",
                resource: { metadata: { namespace: req.namespace, type: req.type, id: req.id, version: "0" } },
              },
            ],
          });
        } else if (req.options?.bootstrap_contents) {
          for (const v of known.values()) await send({ event: [{ event_type: "CREATED", resource: wire(v) }] });
          if (events) await send({ event: [{ event_type: "BOOTSTRAPPED" }] });
        }
      })();
      const initial = pending;
      const stop = call.cluster.onChange((node) => {
        if (node !== call.node) return;
        pending = pending.then(async () => {
          const now = new Map(select().map((r) => [r.id, r]));
          for (const [id, r] of now) {
            const old = known.get(id);
            const text = stringify(r.spec);
            if (!old) {
              const v = { r, version: r.version, text };
              known.set(id, v);
              await send({ event: [{ event_type: "CREATED", resource: wire(v) }] });
            } else if (old.text !== text) {
              const v = { r, version: old.version + 1, text };
              known.set(id, v);
              await send({ event: [{ event_type: "UPDATED", resource: wire(v), old: wire(old) }] });
            }
          }
          for (const [id, old] of known) {
            if (now.has(id)) continue;
            known.delete(id);
            await send({ event: [{ event_type: "DESTROYED", resource: wire(old) }] });
          }
        }).catch(() => {});
      });
      try {
        await initial;
        await new Promise<void>((resolve) => {
          if (call.signal.aborted) return resolve();
          call.signal.addEventListener("abort", () => resolve(), { once: true });
        });
      } finally {
        stop();
      }
    },
  },
};
