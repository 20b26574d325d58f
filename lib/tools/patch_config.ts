/**
 * @module talos_patch_config: patch the machine config client-side, then
 * ApplyConfiguration with an explicit mode. Dry run by default: the node
 * computes and returns the diff.
 */
import * as v from "valibot";
import { stringify } from "yaml";
import { maskText } from "../secrets.ts";
import { applyPatch, sameConfig } from "../talos/config_patch.ts";
import { getResource } from "../talos/cosi.ts";
import { APPLY_MODES, applyConfiguration, wouldReboot } from "../talos/apply_config.ts";
import type { TalosSession } from "../talos/session.ts";
import { defineTool, MUTATING, type ToolContext } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";

export const patchConfigTool = defineTool({
  name: "talos_patch_config",
  title: "Config: patch machine config",
  description: "Patch the machine config of the given nodes (YAML/JSON merge patch, or RFC 6902 on " +
    "single-document configs). Dry run by default: returns the diff the node computes; applying needs " +
    "dry_run=false and confirm: true, with an explicit mode. Needs os:admin.",
  risk: "change",
  annotations: MUTATING,
  confirm: true,
  rpcs: ["/machine.MachineService/ApplyConfiguration"],
  input: {
    context,
    nodes,
    patch: v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(256 * 1024),
      v.description("Merge patch (YAML/JSON documents) or a JSON array of RFC 6902 operations."),
    ),
    dry_run: v.optional(v.pipe(v.boolean(), v.description("Only show the diff (default true).")), true),
    mode: v.optional(
      v.pipe(
        v.picklist(APPLY_MODES),
        v.description("How to apply (default auto; Talos 1.14 refuses reboot)."),
      ),
      "auto",
    ),
  },
  output: perNodeOutput({
    changed: v.boolean(),
    patch_kind: v.string(),
    mode: v.string(),
    details: v.string(),
    warnings: v.array(v.string()),
  }),
  dryRun: (a) => a.dry_run !== false,
  configAfter: (a, current) => applyPatch(current, a.patch).docs,
  // The human sees the patch itself (secrets masked, long patches cut): it is what they consent to.
  action: ({ mode, patch }) =>
    `apply this machine config patch (mode ${mode}):\n${
      maskText(patch.length > 2000 ? `${patch.slice(0, 2000)}\n…` : patch)
    }`,
  // reboot reboots; auto reboots only when the node says the change needs it (Talos ≤ 1.13).
  etcdImpact: ({ mode }) => (mode === "reboot" || mode === "auto" ? "together" : undefined),
  downNodes: (args, ctx) => (args.mode === "auto" ? rebootingNodes(args, ctx) : Promise.resolve(args.nodes ?? [])),
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      const { kind, docs, changed } = await patched(s, node, args.patch, ctx.signal);
      if (!changed) {
        return {
          changed: false,
          patch_kind: kind,
          details: "No changes: the patch leaves the config as it is; nothing was sent.",
        };
      }
      const res = await applyConfiguration(s, node, render(docs), args.mode, args.dry_run, ctx.signal);
      const m = res.messages?.[0];
      const details = m?.mode_details ?? "";
      return {
        changed: true,
        patch_kind: kind,
        mode: m?.mode ?? "",
        details: ctx.config.showSecrets ? details : maskText(details),
        ...(m?.warnings?.length ? { warnings: m.warnings } : {}),
      };
    }),
});

/** The node's machine config with the patch applied client-side, and whether that changes anything. */
async function patched(s: TalosSession, node: string, patch: string, signal: AbortSignal) {
  const current = await getResource(s, node, "config", "MachineConfigs.config.talos.dev", "v1alpha1", signal);
  const before = current.spec as unknown[];
  const { kind, docs } = applyPatch(before, patch);
  return { kind, docs, changed: !sameConfig(before, docs) };
}

/** Documents as the YAML stream ApplyConfiguration takes. */
const render = (docs: unknown[]) => Buffer.from(docs.map((d) => stringify(d)).join("---\n"));

/** The targets mode auto would reboot (lib/talos/apply_config.ts); a node the patch leaves unchanged does not. */
async function rebootingNodes(args: { context?: string; nodes?: string[]; patch: string }, ctx: ToolContext) {
  const session = await ctx.session(args.context);
  return wouldReboot(session, args.nodes ?? [], ctx.config.fanOutConcurrency, ctx.signal, async (node) => {
    const { docs, changed } = await patched(session, node, args.patch, ctx.signal);
    return changed ? render(docs) : undefined;
  });
}
