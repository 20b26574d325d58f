/**
 * @module The shape of a tool: plain data (name, description, annotations,
 * schemas) plus a `run` function. Tools declare facts; guards, validation and
 * formatting happen in one place, lib/server.ts.
 */
import * as v from "valibot";
import type { Config } from "../config.ts";
import type { TalosSession } from "../talos/session.ts";

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
  input: E;
  /** Entries of the structured result; `truncated` is added for every tool. */
  output: Entries;
  /** Mutating tools that need `confirm: true` (and human consent where the client can ask). */
  confirm?: boolean;
  /** Arguments that are remote file paths: normalised and checked against TALOS_MCP_ALLOWED_PATHS before `run`. */
  paths?: readonly string[];
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
