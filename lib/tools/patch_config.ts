/**
 * @module talos_patch_config: patch the machine config client-side, then
 * ApplyConfiguration with an explicit mode. Dry run by default: the node
 * computes and returns the diff.
 */
import * as v from "valibot";
import { stringify } from "yaml";
import { ToolError } from "../errors.ts";
import { maskText } from "../secrets.ts";
import { applyPatch, sameConfig } from "../talos/config_patch.ts";
import { getResource } from "../talos/cosi.ts";
import { defineTool, MUTATING } from "./define.ts";
import { context, nodes, perNodeOutput } from "./params.ts";
import { perNode } from "./per_node.ts";
import type { ApplyConfigurationResponse__Output } from "../talos/proto_types/machine/ApplyConfigurationResponse.ts";

const MODE = { auto: "AUTO", "no-reboot": "NO_REBOOT", reboot: "REBOOT", staged: "STAGED", try: "TRY" } as const;

export const patchConfigTool = defineTool({
  name: "talos_patch_config",
  title: "Config: patch machine config",
  description: "Patch the machine config of the given nodes (YAML/JSON merge patch, or RFC 6902 on " +
    "single-document configs). Dry run by default: returns the diff the node computes; applying needs " +
    "dry_run=false and confirm: true, with an explicit mode. Needs os:admin.",
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
        v.picklist(["auto", "no-reboot", "reboot", "staged", "try"]),
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
  // The human sees the patch itself (secrets masked, long patches cut): it is what they consent to.
  action: ({ mode, patch }) =>
    `apply this machine config patch (mode ${mode}):\n${
      maskText(patch.length > 2000 ? `${patch.slice(0, 2000)}\n…` : patch)
    }`,
  // reboot reboots; auto may on Talos ≤ 1.13.
  etcdImpact: ({ mode }) => (mode === "reboot" || mode === "auto" ? "together" : undefined),
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      const current = await getResource(s, node, "config", "MachineConfigs.config.talos.dev", "v1alpha1", ctx.signal);
      const before = current.spec as unknown[];
      const { kind, docs } = applyPatch(before, args.patch);
      if (sameConfig(before, docs)) {
        return {
          changed: false,
          patch_kind: kind,
          details: "No changes: the patch leaves the config as it is; nothing was sent.",
        };
      }
      const data = Buffer.from(docs.map((d) => stringify(d)).join("---\n"));
      let res: ApplyConfigurationResponse__Output;
      try {
        res = await s.api.machine.ApplyConfiguration({
          data,
          mode: MODE[args.mode],
          dry_run: args.dry_run,
        }, { node, signal: ctx.signal });
      } catch (err) {
        if (err instanceof ToolError && err.code === "UNIMPLEMENTED" && args.mode === "reboot") {
          throw new ToolError(
            `node ${node} refuses mode reboot (Talos 1.14 removed it). Apply with mode auto or no-reboot, ` +
              `then reboot with talos_reboot if the change needs it.`,
            "UNIMPLEMENTED",
          );
        }
        throw err;
      }
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
