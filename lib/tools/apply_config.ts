/**
 * @module talos_apply_config: a whole machine config from a local file, to one node. The file's content
 * never passes through the conversation: the agent names the path, the server reads it. Dry run by
 * default (the node's diff, masked); refused when the config belongs to another cluster than the node's.
 * With insecure, the node is in maintenance mode: it has no config yet, and applying one installs it.
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { maskText } from "../secrets.ts";
import { APPLY_MODES, applyConfiguration, wouldReboot } from "../talos/apply_config.ts";
import { getResource } from "../talos/cosi.ts";
import {
  checkConfigLocally,
  clusterIdentity,
  identityDifferences,
  readConfigFile,
} from "../talos/machine_config_file.ts";
import type { ApiSession } from "../talos/session.ts";
import { defineTool, MUTATING, type ToolContext } from "./define.ts";
import { certFingerprint, context, insecureArgs, nodes, perNodeOutput } from "./params.ts";
import { insecureTarget, perNodeOrInsecure } from "./per_node.ts";

interface ApplyArgs {
  context?: string;
  nodes?: string[];
  config_file: string;
  replace_cluster_identity?: boolean;
  insecure?: boolean;
}

type Loaded = { file: ReturnType<typeof readConfigFile>; docs: unknown[] };
const loaded = new WeakMap<object, Promise<Loaded>>();

/**
 * The file read and checked locally, once per call: the policy guard, the reboot question, the identity
 * check and `run` all see the same bytes (keyed by the call's parsed arguments, which every guard and
 * `run` share), so a file changed while the human is asked is not what gets sent. Throws ToolError naming
 * the problem, never the content.
 */
function loadConfig(args: ApplyArgs): Promise<Loaded> {
  let p = loaded.get(args);
  if (!p) {
    p = (async () => {
      const file = readConfigFile(args.config_file);
      return { file, docs: await checkConfigLocally(file.data) };
    })();
    loaded.set(args, p);
  }
  return p;
}

/**
 * Why the config must not go to `node`: its cluster identity (id, CA) differs from the one the node has
 * now, so applying it would move the node to another cluster (or break it). Undefined when the same,
 * or when the call says replace_cluster_identity.
 */
async function identityRefusal(s: ApiSession, node: string, docs: unknown[], args: ApplyArgs, signal: AbortSignal) {
  if (args.replace_cluster_identity) return undefined;
  const current = await getResource(s, node, "config", "MachineConfigs.config.talos.dev", "v1alpha1", signal);
  const differ = identityDifferences(clusterIdentity(current.spec as unknown[]), clusterIdentity(docs));
  if (!differ.length) return undefined;
  return `Refused: the config in ${args.config_file} belongs to another cluster than node ${node}'s current ` +
    `config: its ${differ.join(" and ")} differ. Applying it would move the node out of its cluster. If that is ` +
    `the intent, call again with replace_cluster_identity: true. Nothing was sent.`;
}

async function rebootingNodes(args: ApplyArgs & { mode: string }, ctx: ToolContext): Promise<string[]> {
  if (args.mode !== "auto") return args.mode === "reboot" ? args.nodes ?? [] : [];
  const { file } = await loadConfig(args);
  const session = await ctx.session(args.context);
  return wouldReboot(session, args.nodes ?? [], 1, ctx.signal, () => Promise.resolve(file.data));
}

export const applyConfigTool = defineTool({
  name: "talos_apply_config",
  title: "Config: apply machine config file",
  description: "Apply a whole machine config from a local file (absolute path on the server's machine) to one " +
    "node. Dry run by default: returns the node's diff; applying needs dry_run=false and confirm: true. Refused " +
    "when the config's cluster identity differs from the node's. insecure: a new node in maintenance mode joins " +
    "the cluster. Needs os:admin.",
  risk: "change",
  annotations: MUTATING,
  confirm: true,
  rpcs: ["/machine.MachineService/ApplyConfiguration"],
  input: {
    context,
    nodes,
    config_file: v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(4096),
      v.description("Absolute path of the machine config (YAML, at most 1 MiB), read by the server."),
    ),
    dry_run: v.optional(v.pipe(v.boolean(), v.description("Only show the diff (default true).")), true),
    mode: v.optional(
      v.pipe(v.picklist(APPLY_MODES), v.description("How to apply (default auto; Talos 1.14 refuses reboot).")),
      "auto",
    ),
    replace_cluster_identity: v.optional(
      v.pipe(
        v.boolean(),
        v.description("Allow a config whose cluster id or CA differs from the node's (moves it to another cluster)."),
      ),
    ),
    ...insecureArgs,
  },
  output: {
    file: v.object({ path: v.string(), bytes: v.number(), sha256: v.string() }),
    ...perNodeOutput({
      applied: v.boolean(),
      mode: v.string(),
      details: v.string(),
      warnings: v.array(v.string()),
      next: v.string(),
      cert_fingerprint: certFingerprint,
    }),
  },
  dryRun: (a) => a.dry_run !== false,
  configAfter: async (a) => (await loadConfig(a)).docs,
  check: (a, config) => {
    if (a.nodes && a.nodes.length !== 1) {
      throw new ToolError(`talos_apply_config sends a whole config to exactly one node; got ${a.nodes.length}.`);
    }
    if (!a.config_file.startsWith("/")) {
      throw new ToolError(`config_file must be an absolute path, got "${a.config_file}".`, "INVALID_ARGUMENT");
    }
    insecureTarget(a, config);
  },
  action: (a) =>
    `apply the whole machine config in ${a.config_file} (mode ${a.mode})` +
    (a.insecure ? ": the node in maintenance mode installs it, reboots and joins that config's cluster." : "."),
  // reboot reboots; auto only when the node says the change needs it (never on 1.14). A maintenance-mode
  // node is no etcd member yet.
  etcdImpact: (a) => (!a.insecure && (a.mode === "reboot" || a.mode === "auto") ? "together" : undefined),
  downNodes: (a, ctx) => rebootingNodes(a, ctx),
  // Before consent: a config that fails the local check or belongs to another cluster is refused.
  preconditions: async (args, ctx) => {
    const { docs } = await loadConfig(args);
    if (args.insecure) return undefined; // no config on the node yet: nothing to compare with
    const session = await ctx.session(args.context);
    return await identityRefusal(session, args.nodes![0], docs, args, ctx.signal);
  },
  run: async (args, ctx) => {
    const { file } = await loadConfig(args);
    const result = await perNodeOrInsecure(ctx, args, async (s, node) => {
      const res = await applyConfiguration(s, node, file.data, args.mode, args.dry_run, ctx.signal);
      const m = res.messages?.[0];
      const details = m?.mode_details ?? "";
      const mode = m?.mode ?? "";
      return {
        applied: !args.dry_run,
        mode,
        details: ctx.config.showSecrets ? details : maskText(details),
        ...(m?.warnings?.length ? { warnings: m.warnings } : {}),
        ...(args.dry_run ? {} : { next: nextStep(args.insecure, mode) }),
      };
    });
    return { file: { path: file.path, bytes: file.bytes, sha256: file.sha256 }, ...result };
  },
});

function nextStep(insecure: boolean | undefined, mode: string): string {
  if (insecure) {
    return "the node installs Talos with this config, reboots and joins its cluster; then reach it through the " +
      "talosconfig (without insecure), e.g. talos_version on its IP.";
  }
  if (mode === "REBOOT") return "the node reboots to apply the config.";
  if (mode === "STAGED") return "the config takes effect at the next reboot.";
  if (mode === "TRY") return "applied for a trial; Talos rolls it back unless another apply follows in time.";
  return "applied without a reboot.";
}
