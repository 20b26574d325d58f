/**
 * @module Sessions: one TalosClient per talosconfig context, created on first
 * use and reused; re-created when the talosconfig changes on disk. Also
 * decides which nodes a call targets.
 */
import { ToolError } from "../errors.ts";
import type { Config } from "../config.ts";
import { type NodePolicy, nodePolicy } from "../policy/nodes.ts";
import type { TalosClient } from "./client.ts";
import type { TalosApi } from "./api.ts";
import {
  assertCertValid,
  endpointHost,
  locateTalosconfig,
  readTalosconfig,
  resolveContext,
  type TalosconfigFile,
  type TalosContext,
} from "./talosconfig.ts";

export interface TalosSession {
  ctx: TalosContext;
  client: TalosClient;
  /** The Talos API, typed from proto/: what tools call. */
  api: TalosApi;
  /** Real hostnames learned so far, by node as asked for. */
  hostnames: Map<string, string>;
}

/** What calls need of a session: the typed API (also what a maintenance-mode connection offers). */
export type ApiSession = Pick<TalosSession, "api">;

type Env = Record<string, string | undefined>;

export class Sessions {
  private readonly cache = new Map<string, Promise<TalosSession>>();

  private readonly nodes: NodePolicy;

  constructor(private readonly config: Readonly<Config>, private readonly env: Env = process.env) {
    this.nodes = nodePolicy(config.allowedNodes);
  }

  /** The parsed talosconfig (re-read when it changed). */
  file(): TalosconfigFile {
    return readTalosconfig(locateTalosconfig(this.env));
  }

  /** Resolved contexts per parsed file: parsing certificates and keys on every call is measurable. */
  private readonly resolved = new WeakMap<TalosconfigFile, Map<string, TalosContext>>();

  /** A context resolved as `get` would use it, without dialing (cached per parsed file). */
  context(contextName?: string): TalosContext {
    const file = this.file();
    let byName = this.resolved.get(file);
    if (!byName) this.resolved.set(file, byName = new Map());
    const key = contextName ?? "";
    let ctx = byName.get(key);
    if (!ctx) byName.set(key, ctx = resolveContext(file, contextName, this.env));
    return ctx;
  }

  /** The session for `contextName` (default: TALOS_CONTEXT or the current context). */
  async get(contextName?: string): Promise<TalosSession> {
    const ctx = this.context(contextName);
    const allowed = this.config.allowedContexts;
    if (allowed.length && !allowed.includes(ctx.name)) {
      throw new ToolError(
        `Context "${ctx.name}" is not allowed here; TALOS_MCP_ALLOWED_CONTEXTS permits: ${allowed.join(", ")}.`,
        "DENIED",
      );
    }
    assertCertValid(ctx);
    // Keyed by everything that shapes the connection, so an edited talosconfig gets a fresh client.
    // The promise is cached, so concurrent first calls (warm-up and a tool) share one client.
    const key = [ctx.file, ctx.name, ctx.endpoints.join(","), ctx.cert.fingerprint, ctx.caPem.length].join("|");
    let s = this.cache.get(key);
    if (!s) {
      for (const [k, old] of this.cache) {
        if (k.startsWith(`${ctx.file}|${ctx.name}|`)) {
          this.cache.delete(k);
          void old.then((o) => o.client.close(), () => {});
        }
      }
      s = Promise.all([import("./client.ts"), import("./api.ts")]).then(async ([{ TalosClient }, { talosApi }]) => {
        const client = new TalosClient(ctx, this.config.callTimeoutMs, this.nodes);
        return { ctx, client, api: await talosApi(client), hostnames: new Map<string, string>() };
      });
      this.cache.set(key, s);
    }
    return await s;
  }

  close(): void {
    for (const s of this.cache.values()) void s.then((o) => o.client.close(), () => {});
    this.cache.clear();
  }
}

/**
 * The nodes a call targets: the ones asked for, else the context's nodes,
 * else the endpoints' hosts (talosctl refuses to guess; we say which we used).
 */
export function targetNodes(ctx: TalosContext, asked?: readonly string[]): string[] {
  if (asked?.length) return [...new Set(asked.map((n) => n.trim()).filter(Boolean))];
  if (ctx.nodes.length) return [...ctx.nodes];
  return [...new Set(ctx.endpoints.map(endpointHost))];
}
