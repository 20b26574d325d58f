/**
 * @module The shape of a tool: plain data (name, description, annotations,
 * schemas) plus a `run` function. Tools declare facts; guards, validation and
 * formatting happen in one place (lib/server.ts, lib/guards/pipeline.ts).
 */
import * as v from "valibot";
import type { Config } from "../config.ts";
import type { Risk } from "../policy/profiles.ts";
import type { EtcdImpact } from "../talos/quorum.ts";
import type { TalosSession } from "../talos/session.ts";
import type { TalosconfigFile, TalosContext } from "../talos/talosconfig.ts";

export interface Annotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What a running tool may use. */
export interface ToolContext {
  config: Readonly<Config>;
  /** The session of a talosconfig context (default context when absent). */
  session(context?: string): Promise<TalosSession>;
  /** The parsed talosconfig (throws a ToolError naming the problem). */
  talosconfig(): TalosconfigFile;
  /** A context resolved as the server would dial it (TALOS_CONTEXT, TALOS_ENDPOINTS applied), without dialing. */
  resolveContext(context?: string): TalosContext;
  signal: AbortSignal;
  /** Sends an MCP progress notification when the client asked for them. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}

export type Entries = v.ObjectEntries;
export type Args<E extends Entries> = v.InferOutput<v.StrictObjectSchema<E, undefined>>;

export interface ToolSpec<E extends Entries = Entries> {
  name: string;
  title: string;
  /** For the model: sentence one says what, sentence two when (and what it costs). */
  description: string;
  annotations: Annotations;
  /**
   * What the tool can do, which decides the safety profiles that offer it (lib/policy/profiles.ts):
   * "operate" (operator: reboots, service actions, pulls, backups) or "change" (admin: config, upgrades,
   * resets, credentials). Tools whose annotations say read-only are "read" without saying so; every other
   * tool must declare it (tests/unit/profiles_test.ts fails otherwise, and the server offers it to admin only).
   */
  risk?: Risk;
  /**
   * For a tool whose actions differ in risk (etcd maintenance: a defrag is operating, removing a member is a
   * change): the risk of this call, checked against the caller's profile once the arguments are parsed.
   * The tool is listed by `risk`, its least.
   */
  riskFor?(args: Args<E>): Risk;
  input: E;
  /** Entries of the structured result; `truncated` is added for every tool. */
  output: Entries;
  /**
   * Mutating tools: the server adds a boolean `confirm` argument, requires it to
   * be `true` and `nodes` to be explicit, and asks the human where the client can.
   */
  confirm?: boolean;
  /** For confirm tools: these arguments change nothing (a dry run), so no consent is needed. */
  dryRun?(args: Args<E>): boolean;
  /**
   * For confirm tools whose dry run plans the whole cluster: a dry run may leave `nodes` out (the context's
   * nodes); a run still needs them explicit, so consent always names the nodes that change.
   */
  dryRunAllNodes?: boolean;
  /** Argument combinations the schema cannot express (and the server's settings allow); throws ToolError before any RPC. */
  check?(args: Args<E>, config: Readonly<Config>): void;
  /**
   * What must hold before the call may act, asked of the cluster with reads only (bootstrap: etcd runs
   * nowhere yet; a config: the node's cluster identity). Returns why the call is refused, or undefined.
   * Runs before the etcd guard and consent: the human is never asked about a call that is refused.
   */
  preconditions?(args: Args<E>, ctx: ToolContext): Promise<string | undefined>;
  /** One sentence for the human asked to consent: what the call will do. */
  action?(args: Args<E>): string;
  /**
   * Whether the call takes etcd down on targeted control-plane nodes, for the
   * quorum guard: "together" (all at once) or "one-by-one" (the tool serialises them).
   */
  etcdImpact?(args: Args<E>): EtcdImpact | undefined;
  /**
   * For tools whose impact depends on the change (a config applied in mode auto reboots only when it
   * must): the targeted nodes that would really go down, asked of the nodes themselves (a dry run).
   * Absent: every targeted node.
   */
  downNodes?(args: Args<E>, ctx: ToolContext): Promise<string[]>;
  /**
   * For tools that change the machine config: the config documents the call would leave on a node whose
   * current config is `current` ([] for a node in maintenance mode). The policy's deny_config_paths are
   * checked on the difference (lib/guards/policy.ts). Throws ToolError when the change cannot be computed.
   */
  configAfter?(args: Args<E>, current: readonly unknown[]): unknown[] | Promise<unknown[]>;
  /** The image an upgrade moves to, for the one-minor-per-step guard. */
  upgradeImage?(args: Args<E>): string | undefined;
  /**
   * The RPCs (full gRPC paths) the tool cannot work without. The server hides
   * the tool when the default context's certificate may not call all of them,
   * and refuses a call from a context that cannot, naming the role it needs
   * (lib/talos/rbac.ts). Absent: reader-level RPCs only; `[]`: no API call.
   */
  rpcs?: readonly string[];
  /**
   * RPCs above reader level the tool uses when the certificate allows and does
   * without otherwise (e.g. Read for a boot id). Not required for visibility;
   * declared so that tests/rpcs_test.ts can hold every call to a declaration.
   */
  optionalRpcs?: readonly string[];
  /**
   * For a tool whose actions call different RPCs (etcd maintenance, META): the RPCs this call needs, which
   * the roles guard checks once the arguments are parsed. The tool is listed by `rpcs`, its least.
   */
  rpcsFor?(args: Args<E>): readonly string[];
  /** Arguments that are remote file paths: normalised and checked against TALOS_MCP_ALLOWED_PATHS before `run`. */
  paths?: readonly string[];
  /**
   * The `ui://` resource of an MCP Apps view that renders this tool's result; tools/list links it in
   * `_meta.ui.resourceUri`. Hosts without MCP Apps ignore it and read the same JSON as always.
   */
  view?: string;
  run(args: Args<E>, ctx: ToolContext): Promise<Record<string, unknown>>;
}

/** Identity with inference: keeps `run`'s argument type tied to `input`. */
export function defineTool<E extends Entries>(spec: ToolSpec<E>): ToolSpec {
  return spec as unknown as ToolSpec;
}

export const READ_ONLY: Annotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};

/** Tools that write a local file (kubeconfig, snapshot, bundle, talosconfig): nothing on the cluster changes. */
export const WRITES_LOCAL: Annotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
};

/** Tools that change a cluster: hidden in read-only mode, `confirm: true` required. */
export const MUTATING: Annotations = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
};

/** The tool's risk: declared, or "read" for a read-only tool; undefined when a changing tool declares none. */
export function riskOf(tool: ToolSpec): Risk | undefined {
  return tool.risk ?? (tool.annotations.readOnlyHint && !tool.confirm ? "read" : undefined);
}
