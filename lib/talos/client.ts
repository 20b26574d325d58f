/**
 * @module mTLS gRPC client for one talosconfig context: one channel per
 * endpoint, reused for every node (targeted by `node` metadata), a deadline on
 * every call, failover to the next endpoint when one cannot be reached.
 * Loaded lazily: nothing here runs before the first tool call.
 */
import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { assertNodeAllowed, type NodePolicy, nodePolicy } from "../policy/nodes.ts";
import { explainCallError } from "./explain.ts";
import { endpointHost, type TalosContext } from "./talosconfig.ts";

export interface CallOptions {
  /** Target node (IP or hostname); absent = the endpoint serves the call. */
  node?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const MAX_MESSAGE = 32 << 20; // apid's limit; grpc-js defaults to 4 MiB
/** TLS name sent for IP endpoints: Bun refuses an IP as SNI, so identity is checked against the IP ourselves. */
const IP_SNI = "talos-apid";

export class TalosClient {
  private readonly channels = new Map<string, grpc.Client>();
  private preferred = 0;

  constructor(
    readonly ctx: TalosContext,
    private readonly defaultTimeoutMs: number,
    /** TALOS_MCP_ALLOWED_NODES: checked here, before any node-targeted RPC leaves the process. */
    private readonly nodes: NodePolicy = nodePolicy([]),
  ) {}

  /**
   * One unary call; rejects with a ToolError that names the node and the fix.
   * Tools call it through the typed API (lib/talos/api.ts), which supplies `def`.
   */
  async unary<Res>(def: MethodDefinition<object, Res>, request: object, opts: CallOptions = {}): Promise<Res> {
    if (opts.node !== undefined) assertNodeAllowed(this.nodes, opts.node);
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return await this.withFailover(def.path, opts, timeoutMs, (client) =>
      new Promise<Res>((resolve, reject) => {
        // Removed when the call ends: a long-lived signal (a watch, the HTTP drain) would otherwise
        // collect one listener, and the call it closes over, per request.
        const onAbort = () => call.cancel();
        const call = client.makeUnaryRequest(
          def.path,
          def.requestSerialize,
          def.responseDeserialize as (b: Buffer) => Res,
          request,
          this.metadata(opts.node),
          { deadline: Date.now() + timeoutMs },
          (err, res) => {
            opts.signal?.removeEventListener("abort", onAbort);
            if (err) reject(err);
            else resolve(res as Res);
          },
        );
        // An already aborted signal never fires "abort": cancel now rather than run to the deadline.
        if (opts.signal?.aborted) call.cancel();
        else opts.signal?.addEventListener("abort", onAbort, { once: true });
      }));
  }

  /**
   * A server stream as an async iterable. Breaking out of the loop cancels the
   * call; the deadline bounds the whole stream, so it always ends.
   */
  async *stream<Res>(
    def: MethodDefinition<object, Res>,
    request: object,
    opts: CallOptions = {},
  ): AsyncGenerator<Res> {
    if (opts.node !== undefined) assertNodeAllowed(this.nodes, opts.node);
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const open = (client: grpc.Client) =>
      client.makeServerStreamRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        this.metadata(opts.node),
        { deadline: Date.now() + timeoutMs },
      );
    const start = this.preferred;
    let attempt = 0;
    let endpoint = this.endpointAt(start, 0);
    let call = open(this.channel(endpoint));
    const onAbort = () => call.cancel();
    if (opts.signal?.aborted) call.cancel(); // an aborted signal never fires "abort" again
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
    let received = false;
    let finished = false;
    try {
      for (;;) {
        try {
          for await (const msg of call) {
            received = true;
            yield msg as Res;
          }
          finished = true;
          return;
        } catch (err) {
          if ((err as grpc.ServiceError).code === grpc.status.CANCELLED && opts.signal?.aborted) return;
          const endpointFailed = this.endpointFailed(endpoint, err);
          if (!received && endpointFailed && ++attempt < this.ctx.endpoints.length) {
            this.skip(start, attempt);
            endpoint = this.endpointAt(start, attempt);
            call = open(this.channel(endpoint));
            continue;
          }
          finished = true;
          throw explainCallError(err, {
            method: def.path,
            node: opts.node,
            endpoint,
            ctx: this.ctx,
            timeoutMs,
            endpointFailed,
          });
        }
      }
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      if (!finished) call.cancel(); // consumer stopped early: free the stream on the server too
    }
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

  private endpointAt(start: number, offset: number): string {
    const eps = this.ctx.endpoints;
    return eps[(start + offset) % eps.length];
  }

  /**
   * The endpoint before `start + attempt` failed: prefer the next one from now
   * on, unless a concurrent call already moved the preference elsewhere.
   */
  private skip(start: number, attempt: number): void {
    const n = this.ctx.endpoints.length;
    if (this.preferred === (start + attempt - 1) % n) this.preferred = (start + attempt) % n;
  }

  private async withFailover<T>(
    path: string,
    opts: CallOptions,
    timeoutMs: number,
    run: (c: grpc.Client) => Promise<T>,
  ): Promise<T> {
    const start = this.preferred;
    for (let attempt = 0;; attempt++) {
      const endpoint = this.endpointAt(start, attempt);
      try {
        return await run(this.channel(endpoint));
      } catch (err) {
        const endpointFailed = this.endpointFailed(endpoint, err);
        if (endpointFailed && attempt + 1 < this.ctx.endpoints.length) {
          this.skip(start, attempt + 1);
          continue;
        }
        throw explainCallError(err, {
          method: path,
          node: opts.node,
          endpoint,
          ctx: this.ctx,
          timeoutMs,
          endpointFailed,
        });
      }
    }
  }

  /** UNAVAILABLE with the channel itself failing means the endpoint, not apid's hop to the node. */
  private endpointFailed(endpoint: string, err: unknown): boolean {
    const e = err as grpc.ServiceError;
    if (e?.code !== grpc.status.UNAVAILABLE) return false;
    const state = this.channels.get(endpoint)?.getChannel().getConnectivityState(false);
    return state === grpc.connectivityState.TRANSIENT_FAILURE || /No connection established/.test(e.details ?? "");
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
