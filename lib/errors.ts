/** @module Errors a user can act on, and how gRPC failures become them. */

/**
 * A failure the user or agent can act on: bad arguments, a refused guard, an
 * unreachable node. Its message is passed through to the tool result as is,
 * so it names what was wrong and what to do.
 */
export class ToolError extends Error {
  constructor(message: string, readonly code = "ERROR") {
    super(message);
    this.name = "ToolError";
  }
}

/** gRPC status codes we name in messages (numbers from grpc's status.proto). */
export const GRPC_CODE_NAMES: Record<number, string> = {
  0: "OK",
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

/** Short text of an unknown thrown value, for messages and logs. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
