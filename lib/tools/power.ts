/** @module talos_shutdown and talos_reset: power nodes off, or wipe them. Both answer at once; the node then goes away. */
import * as v from "valibot";
import { controlPlanesOf } from "../talos/machine_types.ts";
import { defineTool, MUTATING } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";

const OFF = "powers off; it stays off until someone powers it on (at its console, BMC or hypervisor: no API can)";

export const shutdownTool = defineTool({
  name: "talos_shutdown",
  title: "Node: shut down",
  description: "Power off the given nodes (graceful: cordon and drain first; force skips that). They stay off " +
    "until powered on outside Talos. Refused when etcd would lose a quorum that one-at-a-time would keep; on a " +
    "1-2 member etcd it goes ahead and says the outage. Needs confirm: true and os:operator.",
  risk: "operate",
  annotations: MUTATING,
  confirm: true,
  rpcs: ["/machine.MachineService/Shutdown"],
  input: {
    context,
    nodes,
    force: v.optional(
      v.pipe(v.boolean(), v.description("Skip the graceful stop (cordon, drain); for a node that hangs in it.")),
      false,
    ),
  },
  output: perNodeOutput({ shut_down: v.boolean(), next: v.string() }),
  action: ({ force }) =>
    `power off${force ? " at once, skipping cordon and drain" : " after cordoning and draining"}; the nodes ` +
    `stay off until someone powers them on outside Talos.`,
  etcdImpact: () => "together",
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      await s.api.machine.Shutdown({ force: args.force }, { node, signal: ctx.signal });
      return { shut_down: true, next: OFF };
    }),
});

const LABEL = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "a volume label, e.g. EPHEMERAL"),
);
const DEVICE = v.pipe(v.string(), v.regex(/^\/dev\/[A-Za-z0-9][A-Za-z0-9/_.-]{0,62}$/, "a device path, e.g. /dev/sdb"));

/** What Talos keeps on each well-known system volume, for the consent question. */
const HOLDS: Record<string, string> = {
  STATE: "the machine config",
  EPHEMERAL: "/var: pods, images, etcd data",
  META: "the META keys",
};

interface ResetArgs {
  graceful: boolean;
  reboot: boolean;
  system_labels_to_wipe: string[];
  user_disks_to_wipe: string[];
}

/** Exactly what the reset wipes, in words. */
function wiped(a: ResetArgs): string {
  const system = a.system_labels_to_wipe.length
    ? `the system volumes ${a.system_labels_to_wipe.map((l) => (HOLDS[l] ? `${l} (${HOLDS[l]})` : l)).join(", ")}`
    : "the whole system disk (Talos, its machine config, and all node data: pods, images, etcd data)";
  return system + (a.user_disks_to_wipe.length ? ` and the user disks ${a.user_disks_to_wipe.join(", ")}` : "");
}

/** Whether the node loses its machine config (the whole system disk, or STATE). */
const losesConfig = (a: ResetArgs) => !a.system_labels_to_wipe.length || a.system_labels_to_wipe.includes("STATE");

/** What the node does after the reset. */
function next(a: ResetArgs): string {
  if (!a.reboot) {
    return losesConfig(a)
      ? `${OFF}; powered on, it boots into maintenance mode (no config)`
      : `${OFF}; powered on, it boots with its config`;
  }
  return losesConfig(a)
    ? "reboots into maintenance mode (no config): give it one with talos_apply_config and insecure: true"
    : "reboots with its config and rejoins the cluster";
}

export const resetTool = defineTool({
  name: "talos_reset",
  title: "Node: reset (wipe)",
  description: "Wipe nodes: the whole system disk by default, or only the listed system volumes " +
    "(system_labels_to_wipe, e.g. EPHEMERAL, STATE) and user disks; graceful (default) cordons, drains and " +
    "leaves etcd first; then the node powers off, or reboots (reboot: true). Irreversible. Control planes one " +
    "per call, under the etcd quorum guard. Needs confirm: true and os:admin.",
  risk: "change",
  annotations: MUTATING,
  confirm: true,
  rpcs: ["/machine.MachineService/Reset"],
  input: {
    context,
    nodes,
    graceful: v.optional(
      v.pipe(
        v.boolean(),
        v.description("Cordon, drain and leave etcd first (default true); false for a broken node or the last member."),
      ),
      true,
    ),
    reboot: v.optional(
      v.pipe(v.boolean(), v.description("Reboot after wiping instead of powering off (default false).")),
      false,
    ),
    system_labels_to_wipe: v.optional(
      v.pipe(
        v.array(LABEL),
        v.maxLength(16),
        v.description("System volumes to wipe by label (STATE, EPHEMERAL, META); empty: the whole system disk."),
      ),
      [],
    ),
    user_disks_to_wipe: v.optional(
      v.pipe(v.array(DEVICE), v.maxLength(16), v.description("User disks to wipe as well, e.g. /dev/sdb.")),
      [],
    ),
  },
  output: perNodeOutput({ reset: v.boolean(), wiped: v.string(), next: v.string() }),
  action: (a) =>
    `WIPE ${wiped(a)}` +
    (a.graceful ? ", after cordoning, draining and leaving etcd" : ", without leaving etcd first") +
    `; then the node ${next(a)}. This cannot be undone.`,
  etcdImpact: () => "together",
  // One control plane per call: etcd loses a member each time, and is to be checked in between.
  preconditions: async (args, ctx) => {
    const session = await ctx.session(args.context);
    const cps = await controlPlanesOf(session, args.nodes!, ctx.signal, ctx.config.fanOutConcurrency);
    if (cps && cps.length > 1) {
      return `Refused: talos_reset on ${cps.join(", ")} would reset several control planes at once. Reset one ` +
        `control plane per call and check etcd (talos_etcd) in between. Nothing was changed.`;
    }
    return undefined;
  },
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      await s.api.machine.Reset({
        graceful: args.graceful,
        reboot: args.reboot,
        system_partitions_to_wipe: args.system_labels_to_wipe.map((label) => ({ label, wipe: true })),
        user_disks_to_wipe: args.user_disks_to_wipe,
        mode: "ALL", // explicit: the labels (or their absence) and the user disks say what is wiped
      }, { node, signal: ctx.signal });
      return { reset: true, wiped: wiped(args), next: next(args) };
    }),
});
