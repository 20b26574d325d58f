/** @module What a simulated RPC handler sees and returns. */
import { setTimeout as delay } from "node:timers/promises";
import type { SimCluster, SimNode } from "../model.ts";

/** gRPC status codes the simulator answers with. */
export const Code = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
} as const;

/** Thrown by handlers to answer with a gRPC status, as the real server would. */
export class SimError extends Error {
  constructor(readonly code: number, readonly details: string) {
    super(details);
  }
}

export interface SimCall {
  /** The node the call was routed to (by `node` metadata, else the endpoint's own node). */
  node: SimNode;
  cluster: SimCluster;
  roles: string[];
  /** Aborted when the client cancels or its deadline passes. */
  signal: AbortSignal;
}

export type UnaryHandler = (call: SimCall, request: any) => unknown | Promise<unknown>;
export type StreamHandler = (call: SimCall, request: any, send: (msg: unknown) => Promise<void>) => Promise<void>;

/** Handlers by full method path, e.g. "/machine.MachineService/Version". */
export interface HandlerTable {
  unary: Record<string, UnaryHandler>;
  stream: Record<string, StreamHandler>;
}

/** The `{messages: [msg]}` wrapper of node-targeted MachineService replies (no metadata with `node`). */
export const one = (msg: Record<string, unknown>) => ({ messages: [msg] });

/** Resolves after `ms`, or rejects with CANCELLED when `signal` aborts first. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    throw new SimError(Code.CANCELLED, "cancelled");
  }
}
