/**
 * @module The one path that talks to a Talos node without verifying it: a node in maintenance mode
 * (booted without a config) serves its API over TLS with a self-signed certificate and asks for no
 * client certificate, so there is no CA to check it against. Instead the certificate is pinned: the
 * caller may name its SHA-256 (`cert_fingerprint`), and every call reports the one seen so the next call
 * can pin it. Only reachable for nodes in TALOS_MCP_INSECURE_ALLOWED_NODES with
 * TALOS_MCP_ENABLE_INSECURE=true; every other connection is lib/talos/client.ts, which always verifies.
 *
 * grpc-js gives no access to the TLS socket, so the pin is checked on the very connection the calls
 * use: a loopback forwarder opens the TLS connection itself, compares the certificate before one byte
 * of a request is forwarded, and only then joins it to the (plaintext, loopback-only) gRPC channel.
 */
import * as grpc from "@grpc/grpc-js";
import type { MethodDefinition } from "@grpc/proto-loader";
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { GRPC_CODE_NAMES, ToolError } from "../errors.ts";
import { assertNodeAllowed, type NodePolicy } from "../policy/nodes.ts";
import { type TalosApi, talosApi } from "./api.ts";
import type { CallOptions } from "./client.ts";
import type { InsecureTarget } from "./insecure_target.ts";

/** A short-lived connection to one maintenance-mode node; close it when the call is done. */
export class InsecureConnection {
  private readonly tunnel: Server;
  private client?: grpc.Client;
  private readonly sockets = new Set<Socket>();
  /** The certificate fingerprint the node presented (set once the TLS handshake is done). */
  seen?: string;
  private mismatch = false;
  private dialError?: string;

  private constructor(readonly target: InsecureTarget, private readonly timeoutMs: number) {
    this.tunnel = createServer((local) => this.forward(local));
  }

  /**
   * Opens the forwarder. `allowed` is TALOS_MCP_INSECURE_ALLOWED_NODES, `nodes` TALOS_MCP_ALLOWED_NODES:
   * both must allow the node before anything is dialed.
   */
  static async open(
    target: InsecureTarget,
    timeoutMs: number,
    allowed: NodePolicy,
    nodes: NodePolicy,
  ): Promise<{ conn: InsecureConnection; api: TalosApi }> {
    if (!allowed.entries.length || !allowed.allows(target.host)) {
      throw new ToolError(
        `Node ${target.host} is not in TALOS_MCP_INSECURE_ALLOWED_NODES` +
          (allowed.entries.length ? ` (${allowed.entries.join(", ")})` : "") +
          `, so talos-mcp will not talk to it without verifying its certificate. Ask the operator to add it ` +
          `(IPs or CIDRs of at most /24 IPv4, /64 IPv6). Nothing was sent.`,
        "DENIED",
      );
    }
    assertNodeAllowed(nodes, target.host);
    const conn = new InsecureConnection(target, timeoutMs);
    await new Promise<void>((resolve, reject) => {
      conn.tunnel.once("error", reject);
      conn.tunnel.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = conn.tunnel.address() as { port: number };
    conn.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": 32 << 20,
      "grpc.enable_retries": 0,
    });
    return { conn, api: await talosApi(conn) };
  }

  /** Joins one loopback connection to a TLS connection to the node, once its certificate passed. */
  private forward(local: Socket): void {
    this.sockets.add(local);
    local.pause();
    const remote = tlsConnect({
      host: this.target.host,
      port: this.target.port,
      // No CA exists to check a maintenance-mode certificate against; the pin below replaces it.
      rejectUnauthorized: false,
      ALPNProtocols: ["h2"],
      timeout: this.timeoutMs,
    });
    this.sockets.add(remote);
    const drop = () => {
      local.destroy();
      remote.destroy();
    };
    remote.once("secureConnect", () => {
      remote.setTimeout(0); // the timeout bounds the dial and handshake; calls have their own deadlines
      const raw = remote.getPeerCertificate()?.raw;
      this.seen = raw ? createHash("sha256").update(raw).digest("hex") : undefined;
      if (!this.seen || (this.target.pin && this.seen !== this.target.pin)) {
        this.mismatch = true;
        drop(); // before any request byte is forwarded
        return;
      }
      local.pipe(remote).pipe(local);
      local.resume();
    });
    remote.on("error", (err) => {
      this.dialError ??= err.message;
      drop();
    });
    remote.on("timeout", () => {
      this.dialError ??= "connection timed out";
      drop();
    });
    local.on("error", drop);
    local.on("close", () => remote.destroy());
  }

  close(): void {
    this.client?.close();
    for (const s of this.sockets) s.destroy();
    this.tunnel.close();
  }

  private where = () => `${this.target.host}:${this.target.port}`;

  /** A failed call as an error the agent can act on, the pin mismatch first. */
  private explain(err: unknown, method: string): ToolError {
    if (this.mismatch) {
      return new ToolError(
        `The node at ${this.where()} presented a certificate with SHA-256 ${this.seen ?? "(none)"}, not the pinned ` +
          `${this.target.pin}. Nothing was sent. It may have been reinstalled, or another machine answers at that ` +
          `address: check the node's console before trusting the new fingerprint.`,
        "FINGERPRINT_MISMATCH",
      );
    }
    const e = (err ?? {}) as { code?: number; details?: string };
    const code = typeof e.code === "number" ? e.code : 2;
    const name = GRPC_CODE_NAMES[code] ?? `code ${code}`;
    const short = method.replace(/^\/[^/]*\./, "").replace("/", ".");
    if (code === 14) {
      return new ToolError(
        `Cannot reach a maintenance-mode Talos API at ${this.where()}` +
          (this.dialError ? ` (${this.dialError})` : e.details ? ` (${e.details})` : "") +
          `. A node that has a config is no longer in maintenance mode: call without insecure.`,
        name,
      );
    }
    if (code === 12) {
      return new ToolError(`${short} is not available in maintenance mode on ${this.where()}.`, name);
    }
    return new ToolError(`${short} on ${this.where()} (maintenance mode) failed: ${name}: ${e.details ?? ""}`, name);
  }

  /** One unary call with a deadline; the API layer (lib/talos/api.ts) supplies `def`. */
  unary<Res>(def: MethodDefinition<object, Res>, request: object, opts: CallOptions = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const onAbort = () => call.cancel();
      const call = this.client!.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize as (b: Buffer) => Res,
        request,
        new grpc.Metadata(), // no `node`: maintenance mode forwards nothing
        { deadline: Date.now() + (opts.timeoutMs ?? this.timeoutMs) },
        (err, res) => {
          opts.signal?.removeEventListener("abort", onAbort);
          if (err) reject(this.explain(err, def.path));
          else resolve(res as Res);
        },
      );
      if (opts.signal?.aborted) call.cancel();
      else opts.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** A server stream (COSI List); the deadline bounds it, leaving the loop cancels it. */
  async *stream<Res>(def: MethodDefinition<object, Res>, request: object, opts: CallOptions = {}): AsyncGenerator<Res> {
    const call = this.client!.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + (opts.timeoutMs ?? this.timeoutMs) },
    );
    const onAbort = () => call.cancel();
    if (opts.signal?.aborted) call.cancel();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
    let finished = false;
    try {
      for await (const msg of call) yield msg as Res;
      finished = true;
    } catch (err) {
      finished = true;
      throw this.explain(err, def.path);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      if (!finished) call.cancel();
    }
  }
}
