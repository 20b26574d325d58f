/**
 * @module When a failed Talos call may be sent again. Only failures of the channel itself count: the
 * endpoint could not be reached (the request never left), or the connection broke under the call (the
 * request may have arrived). A status apid relays from the target node — "connection error: desc = ...
 * dial tcp NODE:50000", a node down or rebooting — is an answer, never retried: reboot polling and the
 * lifecycle tools rely on seeing it. Only reads are retried after a broken connection; a mutating call
 * whose outcome is unknown is reported as such (lib/talos/outcome.ts).
 */
import { ROLE, rolesFor } from "./rbac.ts";

/** How a call failed at the channel level; undefined: the server answered (whatever the status). */
export type ChannelFailure =
  /** The request never reached the endpoint (no connection, or a stream the server refused unprocessed). */
  | "unsent"
  /** The connection broke after the request was sent, before the reply: it may have been processed. */
  | "dropped";

// grpc-js' own texts (the client makes them up; a relayed status carries Go's "desc = ..." instead).
// "Channel closed before call started": a call queued on a channel another call just gave up on (avoid()).
const UNSENT = /^No connection established|^Stream refused by server|^Channel closed before call started/;
/** grpc-js on Node says "Connection dropped" or the socket error; under Bun a cut session is an RST_STREAM without status. */
const DROPPED_UNAVAILABLE = /^Connection dropped|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|GOAWAY/;
const DROPPED_INTERNAL = /^Received RST_STREAM with code \d+/;

/** Classifies a gRPC error; `channelDown` = the endpoint's channel is in TRANSIENT_FAILURE. */
export function channelFailure(err: unknown, channelDown: boolean): ChannelFailure | undefined {
  const e = err as { code?: number; details?: string } | undefined;
  const details = e?.details ?? "";
  if (details.includes("desc =")) return undefined; // relayed by apid from the node it dialled
  if (e?.code === 14) { // UNAVAILABLE
    if (channelDown || UNSENT.test(details)) return "unsent";
    return DROPPED_UNAVAILABLE.test(details) ? "dropped" : undefined;
  }
  if (e?.code === 13 && DROPPED_INTERNAL.test(details)) return "dropped"; // INTERNAL
  return undefined;
}

/** Reads outside the reader role: sending them twice changes nothing (Read is how reboots are told). */
const IDEMPOTENT = new Set([
  "/machine.MachineService/Read",
  "/machine.MachineService/Kubeconfig",
  "/machine.MachineService/EtcdSnapshot",
]);

/** Whether `method` may be sent again: reader-level RPCs are reads (lib/talos/rbac.ts), plus the reads above. */
export function idempotent(method: string): boolean {
  return IDEMPOTENT.has(method) || rolesFor(method).includes(ROLE.reader);
}

/**
 * Retry rounds at most per read, all within its deadline (a drop is rare; an endpoint dropping every call is
 * broken). A round fails over through the context's endpoints at once; only a new round waits (backoff).
 */
export const MAX_ATTEMPTS = 4;
const BACKOFF_CAP_MS = 2_000;

/** Wait before attempt `attempt + 1` (attempt ≥ 1): full jitter over base·2^(attempt-1), capped. */
export function backoffMs(attempt: number, baseMs: number, random: () => number): number {
  return Math.round(random() * Math.min(BACKOFF_CAP_MS, baseMs * 2 ** (attempt - 1)));
}
