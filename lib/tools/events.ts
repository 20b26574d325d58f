/**
 * @module talos_events: a node's recent runtime events, one line of meaning
 * each. Events never ends by itself: we stop after `tail_count` events
 * or once the replay goes quiet, and cancel the call.
 */
import * as v from "valibot";
import { parseDuration } from "../duration.ts";
import { describeEvent, readEvents } from "../talos/events.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";

export const eventsTool = defineTool({
  name: "talos_events",
  title: "Node: events",
  description: "Recent runtime events of each node (boot sequence, service state changes, config errors), " +
    "one line each, oldest first. Use to see what a node went through, e.g. after a reboot or upgrade.",
  annotations: READ_ONLY,
  input: {
    context,
    nodes,
    tail_count: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000), v.description("Events per node (50).")),
      50,
    ),
    since: v.optional(
      v.pipe(
        v.string(),
        v.check((s) => (parseDuration(s) ?? 0) >= 1000, "since is a duration like 90s, 15m or 2h"),
        v.description("Only events from this recent window, e.g. 15m or 2h (then the last tail_count of them)."),
      ),
    ),
  },
  output: perNodeOutput({ events: v.array(v.string()) }),
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      const seconds = args.since ? Math.ceil(parseDuration(args.since)! / 1000) : 0;
      const events = await readEvents(s, node, {
        tail_seconds: seconds,
        tail_count: args.tail_count,
        signal: ctx.signal,
        // Our own end: the call ends when we stop; the deadline is only a backstop.
        deadline_ms: Math.max(100, ctx.config.callTimeoutMs - 500),
      });
      return { events: events.map(describeEvent) };
    }),
});
