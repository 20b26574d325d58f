/**
 * @module mTLS gRPC client for one talosconfig context: one channel per
 * endpoint, reused for every node (targeted by `node` metadata), one deadline
 * per call whatever happens inside it, failover to the next endpoint when one
 * cannot be reached (which is then avoided for a while: endpoints.ts), reads
 * retried with backoff when the connection breaks (retry.ts), and a mutating
 * call cut off mid-way reported as of unknown outcome (outcome.ts).
 * Loaded lazily: nothing here runs before the first tool call.
 */
import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { assertNodeAllowed, type NodePolicy, nodePolicy } from "../policy/nodes.ts";
import { setTimeout as delay } from "node:timers/promises";
import { ToolError } from "../errors.ts";
import { EndpointHealth } from "./endpoints.ts";
import { type CallInfo, explainCallError } from "./explain.ts";
import { outcomeUnknown } from "./outcome.ts";
import { backoffMs, channelFailure, idempotent, MAX_ATTEMPTS } from "./retry.ts";
import { endpointHost, type TalosContext } from "./talosconfig.ts";

export interface CallOptions {
  /** Target node (IP or hostname); absent = the endpoint serves the call. */
  node?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What tests turn: the clock of the endpoint avoid window, the retry backoff's base and jitter. */
export interface ClientTuning {
  now?: () => number;
  /** First backoff before a retry, ms (doubles per attempt; full jitter). */
  retryBaseMs?: number;
  random?: () => number;
}

const MAX_MESSAGE = 32 << 20; // apid's limit; grpc-js defaults to 4 MiB
/** TLS name sent for IP endpoints: Bun refuses an IP as SNI, so identity is checked against the IP ourselves. */
const IP_SNI = "talos-apid";
const RETRY_BASE_MS = 100;

/** One call's way through the endpoints: which order, where it is, how many attempts so far. */
interface Attempt {
  order: readonly number[];
  at: number;
  attempts: number;
}

/** What recover() needs to know of the call. */
interface CallState {
  path: string;
  opts: CallOptions;
  timeoutMs: number;
  /** Absolute (Date.now) deadline shared by every attempt: retries never extend the call. */
  deadline: number;
  /** Streams: a message arrived, so the call cannot be re-sent. */
  received?: boolean;
}

export class TalosClient {
  private readonly channels = new Map<string, grpc.Client>();
  private readonly health: EndpointHealth;
  private readonly retryBaseMs: number;
  private readonly random: () => number;

  constructor(
    readonly ctx: TalosContext,
    private readonly defaultTimeoutMs: number,
    /** TALOS_MCP_ALLOWED_NODES: checked here, before any node-targeted RPC leaves the process. */
    private readonly nodes: NodePolicy = nodePolicy([]),
    tuning: ClientTuning = {},
  ) {
    this.health = new EndpointHealth(ctx.endpoints.length, tuning.now);
    this.retryBaseMs = tuning.retryBaseMs ?? RETRY_BASE_MS;
    this.random = tuning.random ?? Math.random;
  }

  /**
   * One unary call; rejects with a ToolError that names the node and the fix.
   * Tools call it through the typed API (lib/talos/api.ts), which supplies `def`.
   */
  async unary<Res>(def: MethodDefinition<object, Res>, request: object, opts: CallOptions = {}): Promise<Res> {
    if (opts.node !== undefined) assertNodeAllowed(this.nodes, opts.node);
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const state: CallState = { path: def.path, opts, timeoutMs, deadline: Date.now() + timeoutMs };
    const attempt: Attempt = { order: this.health.order(), at: 0, attempts: 1 };
    for (;;) {
      const index = attempt.order[attempt.at];
      try {
        const res = await this.once(def, request, opts, state.deadline, this.channel(this.ctx.endpoints[index]));
        this.health.succeeded(index);
        return res;
      } catch (err) {
        await this.recover(err, attempt, state);
      }
    }
  }

  private once<Res>(
    def: MethodDefinition<object, Res>,
    request: object,
    opts: CallOptions,
    deadline: number,
    client: grpc.Client,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      // Removed when the call ends: a long-lived signal (a watch, the HTTP drain) would otherwise
      // collect one listener, and the call it closes over, per request.
      const onAbort = () => call.cancel();
      const call = client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize as (b: Buffer) => Res,
        request,
        this.metadata(opts.node),
        { deadline },
        (err, res) => {
          opts.signal?.removeEventListener("abort", onAbort);
          if (err) reject(err);
          else resolve(res as Res);
        },
      );
      // An already aborted signal never fires "abort": cancel now rather than run to the deadline.
      if (opts.signal?.aborted) call.cancel();
      else opts.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * A server stream as an async iterable. Breaking out of the loop cancels the
   * call; the deadline bounds the whole stream, so it always ends. Retried (reads)
   * or failed over only before its first message.
   */
  async *stream<Res>(
    def: MethodDefinition<object, Res>,
    request: object,
    opts: CallOptions = {},
  ): AsyncGenerator<Res> {
    if (opts.node !== undefined) assertNodeAllowed(this.nodes, opts.node);
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const state: CallState = { path: def.path, opts, timeoutMs, deadline: Date.now() + timeoutMs };
    const attempt: Attempt = { order: this.health.order(), at: 0, attempts: 1 };
    const open = () =>
      this.channel(this.ctx.endpoints[attempt.order[attempt.at]]).makeServerStreamRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        this.metadata(opts.node),
        { deadline: state.deadline },
      );
    let call = open();
    const onAbort = () => call.cancel();
    if (opts.signal?.aborted) call.cancel(); // an aborted signal never fires "abort" again
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
    let finished = false;
    try {
      for (;;) {
        try {
          for await (const msg of call) {
            if (!state.received) {
              state.received = true;
              this.health.succeeded(attempt.order[attempt.at]);
            }
            yield msg as Res;
          }
          finished = true;
          this.health.succeeded(attempt.order[attempt.at]);
          return;
        } catch (err) {
          if ((err as grpc.ServiceError).code === grpc.status.CANCELLED && opts.signal?.aborted) return;
          finished = true; // this call is over; recover() either throws or a new one opens
          try {
            await this.recover(err, attempt, state);
          } catch (e) {
            if (opts.signal?.aborted) return; // cancelled while waiting to retry: a normal end, as above
            throw e;
          }
          finished = false;
          call = open();
        }
      }
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      if (!finished) call.cancel(); // consumer stopped early: free the stream on the server too
    }
  }

  /**
   * After a failed attempt: points `attempt` at the next endpoint, or at a new round after a backoff
   * (reads only), or throws the error to report. An unreached endpoint is avoided for a while and the
   * next one tried, for every call (the request never left). A connection that broke under the call is
   * retried for reads, within the deadline; for a mutating call the outcome is unknown, said as such.
   */
  private async recover(err: unknown, attempt: Attempt, state: CallState): Promise<void> {
    const index = attempt.order[attempt.at];
    const endpoint = this.ctx.endpoints[index];
    const channelDown = this.channels.get(endpoint)?.getChannel().getConnectivityState(false) ===
      grpc.connectivityState.TRANSIENT_FAILURE;
    const failure = channelFailure(err, channelDown);
    const info: CallInfo = {
      method: state.path,
      node: state.opts.node,
      endpoint,
      ctx: this.ctx,
      timeoutMs: state.timeoutMs,
      endpointFailed: failure === "unsent",
    };
    if (failure === undefined) throw explainCallError(err, info);
    const read = idempotent(state.path);
    if (failure === "dropped" && !read) throw outcomeUnknown((err as grpc.ServiceError).details, info);
    if (state.received) throw explainCallError(err, info);
    if (failure === "unsent") {
      this.avoid(index);
      if (++attempt.at < attempt.order.length) return; // fail over: the next endpoint, at once
    }
    if (!read) throw explainCallError(err, info);
    if (attempt.attempts >= MAX_ATTEMPTS) {
      const e = explainCallError(err, info);
      throw new ToolError(`${e.message} (${attempt.attempts} attempts, each failing so)`, e.code);
    }
    const wait = backoffMs(attempt.attempts, this.retryBaseMs, this.random);
    if (Date.now() + wait >= state.deadline) {
      const e = explainCallError({ code: grpc.status.DEADLINE_EXCEEDED }, info);
      throw new ToolError(
        `${e.message} Last failure, after ${attempt.attempts} attempt(s): ${errorText(err)}.`,
        e.code,
      );
    }
    try {
      await delay(wait, undefined, { signal: state.opts.signal });
    } catch {
      throw explainCallError({ code: grpc.status.CANCELLED, details: "cancelled while waiting to retry" }, info);
    }
    attempt.attempts++;
    attempt.order = this.health.order();
    attempt.at = 0;
  }

  /** Starts the avoid window of an unreached endpoint and drops its channel, so it is not redialled meanwhile. */
  private avoid(index: number): void {
    if (!this.health.failed(index)) return;
    const endpoint = this.ctx.endpoints[index];
    this.channels.get(endpoint)?.close();
    this.channels.delete(endpoint);
  }

  close(): void {
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
  }

  private metadata(node?: string): grpc.Metadata {
    const md = new grpc.Metadata();
    if (node) md.set("node", node); // single-valued `node`, never the deprecated `nodes`
    if (this.ctx.cluster) md.set("context", this.ctx.cluster);
    return md;
  }

  private channel(endpoint: string): grpc.Client {
    let c = this.channels.get(endpoint);
    if (c) return c;
    const host = endpointHost(endpoint);
    const creds = grpc.credentials.createSsl(
      Buffer.from(this.ctx.caPem),
      Buffer.from(this.ctx.keyPem),
      Buffer.from(this.ctx.certPem),
      // The chain is verified by TLS against the context's CA; this checks the
      // name, against the endpoint address we dialed (never turned off).
      { checkServerIdentity: (_sni: string, cert: PeerCertificate) => checkServerIdentity(host, cert) },
    );
    const options: grpc.ChannelOptions = {
      "grpc.max_receive_message_length": MAX_MESSAGE,
      "grpc.max_send_message_length": MAX_MESSAGE,
      "grpc.enable_retries": 0,
    };
    if (isIP(host)) options["grpc.ssl_target_name_override"] = IP_SNI;
    c = new grpc.Client(endpoint, creds, options);
    this.channels.set(endpoint, c);
    return c;
  }
}

function errorText(err: unknown): string {
  const e = err as { details?: string; message?: string } | undefined;
  return (e?.details || e?.message || String(err)).trim();
}
