/**
 * @module Readiness: the talosconfig loads and one of the default context's
 * endpoints accepts a TCP connection. Cheap (no TLS, no RBAC), with a
 * deadline, and cached briefly so probes from many kubelets cost one dial.
 */
import { connect } from "node:net";
import { messageOf } from "../errors.ts";
import type { Sessions } from "../talos/session.ts";
import { endpointHost } from "../talos/talosconfig.ts";

export interface Readiness {
  ready: boolean;
  detail: string;
}

/** Resolves true once host:port accepts a connection, false on error or after `ms`. */
function dial(endpoint: string, ms: number): Promise<boolean> {
  const port = Number(/:(\d+)$/.exec(endpoint)?.[1] ?? 50000);
  return new Promise((resolve) => {
    const socket = connect({ host: endpointHost(endpoint), port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** A readiness check over `sessions`, re-run at most every `cacheMs`; concurrent probes share one run. */
export function readinessCheck(sessions: Sessions, timeoutMs = 2_000, cacheMs = 5_000): () => Promise<Readiness> {
  let last: { at: number; result: Promise<Readiness> } | undefined;
  const run = async (): Promise<Readiness> => {
    let endpoints: string[];
    let name: string;
    try {
      const s = await sessions.get();
      endpoints = s.ctx.endpoints;
      name = s.ctx.name;
    } catch (err) {
      return { ready: false, detail: `talosconfig: ${messageOf(err)}` };
    }
    const results = await Promise.all(endpoints.map((e) => dial(e, timeoutMs)));
    const up = endpoints.filter((_, i) => results[i]);
    return up.length ? { ready: true, detail: `context "${name}": endpoint ${up[0]} reachable` } : {
      ready: false,
      detail: `context "${name}": no endpoint reachable within ${timeoutMs} ms (${endpoints.join(", ")})`,
    };
  };
  return () => {
    const now = Date.now();
    if (!last || now - last.at > cacheMs) last = { at: now, result: run() };
    return last.result;
  };
}
