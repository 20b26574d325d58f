/**
 * @module MCP resources: the cluster view (`ui://talos-mcp/cluster`, an MCP Apps HTML view), and COSI
 * resources as `talos://<context>/nodes/<node>/<type>/<id>` (a resource template), read as masked JSON
 * specs, and subscriptions backed by COSI Watch (which never ends by itself): subscribe starts a watch,
 * each change after the initial state sends notifications/resources/updated, unsubscribe cancels it.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { APP_MIME, CLUSTER_VIEW_HTML, CLUSTER_VIEW_URI } from "./apps/view.ts";
import type { Config } from "./config.ts";
import { messageOf, ToolError } from "./errors.ts";
import { fittedJson } from "./format.ts";
import { log } from "./log.ts";
import { maskText, maskValue } from "./secrets.ts";
import { definitions, getResource, resolveType } from "./talos/cosi.ts";
import type { Sessions } from "./talos/session.ts";
import { targetNodes } from "./talos/session.ts";

const RESOURCE_TEMPLATE = "talos://{context}/nodes/{node}/{type}/{id}";
/** Watches are long-lived but still carry a deadline; a subscription past it ends and is logged. */
const WATCH_DEADLINE_MS = 24 * 3600_000;

export interface TalosUri {
  context: string;
  node: string;
  type: string;
  id: string;
}

/** Parses a talos:// URI; the id may contain slashes (encoded or not). */
function parseTalosUri(uri: string): TalosUri {
  const m = /^talos:\/\/([^/]+)\/nodes\/([^/]+)\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Not a talos resource URI: ${uri}. Expected talos://<context>/nodes/<node>/<type>/<id>.`,
    );
  }
  const [context, node, type, id] = m.slice(1).map(decodeURIComponent);
  return { context, node, type, id };
}

function talosUri(u: TalosUri): string {
  const e = encodeURIComponent;
  return `talos://${e(u.context)}/nodes/${e(u.node)}/${e(u.type)}/${e(u.id)}`;
}

/** The view as resources/list shows it; hosts also find it through the tools' `_meta.ui.resourceUri`. */
const CLUSTER_VIEW = {
  uri: CLUSTER_VIEW_URI,
  name: "cluster-view",
  title: "Talos cluster view",
  description: "MCP Apps view of talos_node_summary and talos_upgrade_plan results: node cards, etcd, " +
    "what is wrong, upgrade steps. Self-contained HTML; calls read-only tools only.",
  mimeType: APP_MIME,
};

/** A failure as a JSON-RPC error; its text passes the secret masker like tool errors do (lib/server.ts). */
function asMcp(err: unknown, showSecrets: boolean): McpError {
  if (err instanceof McpError) return err;
  const mask = (text: string) => (showSecrets ? text : maskText(text));
  if (err instanceof ToolError) return new McpError(ErrorCode.InvalidRequest, mask(err.message));
  return new McpError(ErrorCode.InternalError, mask(`internal error: ${messageOf(err)}`));
}

/** Resolves the URI's type (alias allowed) on its node. */
async function locate(sessions: Sessions, u: TalosUri, signal?: AbortSignal) {
  const session = await sessions.get(u.context);
  const def = resolveType(await definitions(session, u.node, signal), u.type);
  return { session, def };
}

export function registerResources(
  server: Server,
  config: Readonly<Config>,
  sessions: Sessions,
  { subscriptions }: { subscriptions: boolean },
): () => void {
  const watches = new Map<string, AbortController>();

  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [{
      uriTemplate: RESOURCE_TEMPLATE,
      name: "talos-resource",
      title: "Talos COSI resource",
      description: "One COSI resource of a node (type or alias, e.g. machinestatus/machine, services/kubelet). " +
        "Secrets masked. Subscribe to get notified when it changes.",
      mimeType: "application/json",
    }],
  }));

  // The view, and a few entry points for clients that only show listed resources: each default node's
  // machine status.
  server.setRequestHandler(ListResourcesRequestSchema, () => {
    try {
      const ctx = sessions.context();
      return {
        resources: [
          CLUSTER_VIEW,
          ...targetNodes(ctx).map((node) => ({
            uri: talosUri({ context: ctx.name, node, type: "machinestatus", id: "machine" }),
            name: `${node} machine status`,
            mimeType: "application/json",
          })),
        ],
      };
    } catch {
      return { resources: [CLUSTER_VIEW] };
    }
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => {
    if (req.params.uri === CLUSTER_VIEW_URI) {
      // No CSP domains declared: the view needs no network, so hosts apply their most restrictive policy.
      // It draws its own cards, so it asks for no host border.
      return {
        contents: [{
          uri: CLUSTER_VIEW_URI,
          mimeType: APP_MIME,
          text: CLUSTER_VIEW_HTML,
          _meta: { ui: { prefersBorder: false } },
        }],
      };
    }
    const u = parseTalosUri(req.params.uri);
    try {
      const { session, def } = await locate(sessions, u, extra.signal);
      const r = await getResource(session, u.node, def.defaultNamespace, def.type, u.id, extra.signal);
      const value = (config.showSecrets ? r : maskValue(r)) as unknown as Record<string, unknown>;
      const text = fittedJson(value, config.maxOutputBytes);
      return { contents: [{ uri: req.params.uri, mimeType: "application/json", text }] };
    } catch (err) {
      throw asMcp(err, config.showSecrets);
    }
  });

  // A stateless HTTP server has no stream to send updates on once the request ends: no subscriptions there.
  if (!subscriptions) return () => {};

  server.setRequestHandler(SubscribeRequestSchema, async (req, extra) => {
    const uri = req.params.uri;
    if (watches.has(uri)) return {};
    const u = parseTalosUri(uri);
    const abort = new AbortController();
    // Until the watch is established the request is bounded like any call (and by the client's
    // cancellation); only an established watch lives on, until unsubscribe or close.
    const cancel = () => abort.abort();
    const timer = setTimeout(cancel, config.callTimeoutMs);
    extra.signal.addEventListener("abort", cancel, { once: true });
    const late = () =>
      new ToolError(
        `The watch on ${uri} was not established within ${config.callTimeoutMs} ms (TALOS_MCP_TIMEOUT_MS); ` +
          `check the node with talos_version, then subscribe again.`,
      );
    try {
      const located = await locate(sessions, u, abort.signal).catch((err) => {
        throw abort.signal.aborted ? late() : err; // a cut-off type lookup would read as "unknown type"
      });
      if (abort.signal.aborted) throw late();
      const { session, def } = located;
      const stream = session.api.cosi.Watch(
        { namespace: def.defaultNamespace, type: def.type, id: u.id, api_version: 1 },
        { node: u.node, signal: abort.signal, timeoutMs: WATCH_DEADLINE_MS },
      );
      // Subscribed means watching: wait for the empty "established" reply and the initial state.
      let initial = 0;
      while (initial < 2) {
        const next = await stream.next();
        if (next.done) {
          throw abort.signal.aborted
            ? late()
            : new ToolError(`The watch on ${uri} ended before it was established; subscribe again.`);
        }
        initial++;
      }
      if (watches.has(uri)) { // a concurrent subscribe to the same URI won: one watch is enough
        await stream.return(undefined); // cancels this one's stream
        return {};
      }
      watches.set(uri, abort);
      void (async () => {
        try {
          for await (const msg of stream) {
            if (!msg.event?.length) continue;
            await server.sendResourceUpdated({ uri }).catch(() => {});
          }
        } catch (err) {
          if (!abort.signal.aborted) log("warning", `watch on ${uri} ended: ${messageOf(err)}`);
        } finally {
          if (watches.get(uri) === abort) watches.delete(uri);
        }
      })();
      return {};
    } catch (err) {
      abort.abort();
      throw asMcp(err, config.showSecrets);
    } finally {
      clearTimeout(timer);
      extra.signal.removeEventListener("abort", cancel);
    }
  });

  server.setRequestHandler(UnsubscribeRequestSchema, (req) => {
    const w = watches.get(req.params.uri);
    watches.delete(req.params.uri);
    w?.abort(); // cancels the Watch stream on the node
    return {};
  });

  return () => {
    for (const w of watches.values()) w.abort();
    watches.clear();
  };
}
