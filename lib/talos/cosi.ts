/**
 * @module COSI resources (talosctl get): resource definitions, alias
 * resolution done client-side as talosctl does (the server resolves no aliases),
 * and spec decoding, including MachineConfig's two encodings (raw text before
 * 1.12, a YAML string scalar since).
 */
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { ToolError } from "../errors.ts";
import type { ApiSession } from "./session.ts";
import type { Resource__Output as RawResource } from "./proto_types/cosi/resource/Resource.ts";
import type { Metadata__Output } from "./proto_types/cosi/resource/Metadata.ts";

export interface ResourceDefinition {
  type: string;
  displayType: string;
  defaultNamespace: string;
  aliases: string[];
  allAliases: string[];
  sensitive: boolean;
}

export interface Resource {
  id: string;
  namespace: string;
  type: string;
  version: string;
  phase?: string;
  owner?: string;
  updated?: string;
  labels?: Record<string, string>;
  spec: unknown;
}

const RD_TYPE = "ResourceDefinitions.meta.cosi.dev";
const DEFS_TTL_MS = 5 * 60_000;
const defsCache = new WeakMap<ApiSession, { at: number; node?: string; defs: ResourceDefinition[] }>();

/** All resource definitions, read from `node` and cached per session for a few minutes. */
export async function definitions(
  session: ApiSession,
  node?: string,
  signal?: AbortSignal,
): Promise<ResourceDefinition[]> {
  const hit = defsCache.get(session);
  if (hit && Date.now() - hit.at < DEFS_TTL_MS) return hit.defs;
  const defs: ResourceDefinition[] = [];
  for await (
    const msg of session.api.cosi.List(
      { namespace: "meta", type: RD_TYPE },
      { node, signal },
    )
  ) {
    const spec = parseYaml(msg.resource?.spec?.yaml_spec ?? "") as Record<string, unknown> | null;
    if (!spec || typeof spec.type !== "string") continue;
    defs.push({
      type: spec.type,
      displayType: String(spec.displayType ?? ""),
      defaultNamespace: String(spec.defaultNamespace ?? ""),
      aliases: Array.isArray(spec.aliases) ? spec.aliases.map(String) : [],
      allAliases: Array.isArray(spec.allAliases) ? spec.allAliases.map(String) : [],
      sensitive: spec.sensitivity === "sensitive",
    });
  }
  defs.sort((a, b) => a.type.localeCompare(b.type));
  defsCache.set(session, { at: Date.now(), node, defs });
  return defs;
}

/** Picks the one definition an input names: canonical type (any case) or alias. */
export function resolveType(defs: readonly ResourceDefinition[], input: string): ResourceDefinition {
  const want = input.trim().toLowerCase();
  const matches = defs.filter((d) =>
    d.type.toLowerCase() === want || d.allAliases.some((a) => a.toLowerCase() === want) ||
    d.aliases.some((a) => a.toLowerCase() === want)
  );
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new ToolError(
      `Resource type "${input}" is ambiguous: it matches ${matches.map((d) => d.type).join(", ")}. ` +
        `Pass the full type name.`,
      "INVALID_ARGUMENT",
    );
  }
  const near = defs.filter((d) => d.type.toLowerCase().includes(want) || d.aliases.some((a) => a.includes(want)))
    .slice(0, 5).map((d) => d.type);
  throw new ToolError(
    `Resource type "${input}" is not registered on this node.` +
      (near.length ? ` Did you mean ${near.join(", ")}?` : "") +
      ` Call talos_resource_definitions for the list of types and aliases.`,
    "NOT_FOUND",
  );
}

const isMachineConfig = (type: string) => type === "MachineConfigs.config.talos.dev";

/**
 * A resource's spec as data. MachineConfig carries the whole multi-document
 * config: since Talos 1.12 as a YAML string scalar (annotation
 * talos.dev/yaml-spec), before as the raw text; either way we return the
 * parsed documents.
 */
function decodeSpec(r: RawResource, m: Metadata__Output): unknown {
  const yaml = r.spec?.yaml_spec ?? "";
  if (isMachineConfig(m.type)) {
    const text = m.annotations?.["talos.dev/yaml-spec"] ? String(parseYaml(yaml) ?? "") : yaml;
    return parseAllDocuments(text).map((d) => d.toJS()).filter((d) => d !== null);
  }
  try {
    return parseYaml(yaml);
  } catch {
    return yaml;
  }
}

function compact(r: RawResource | null): Resource {
  const m = r?.metadata;
  // COSI always sends both; without them there is nothing to show (a bug on either side).
  if (!r || !m) throw new Error("COSI answered without a resource or its metadata");
  const updated = m.updated?.seconds ? new Date(Number(m.updated.seconds) * 1000).toISOString() : undefined;
  return {
    id: m.id,
    namespace: m.namespace,
    type: m.type,
    version: m.version,
    ...(m.phase && m.phase !== "running" ? { phase: m.phase } : {}),
    ...(m.owner ? { owner: m.owner } : {}),
    ...(updated ? { updated } : {}),
    ...(m.labels && Object.keys(m.labels).length ? { labels: m.labels } : {}),
    spec: decodeSpec(r, m),
  };
}

/** Get one resource by id. */
export async function getResource(
  session: ApiSession,
  node: string,
  namespace: string,
  type: string,
  id: string,
  signal?: AbortSignal,
): Promise<Resource> {
  const res = await session.api.cosi.Get(
    { namespace, type, id },
    { node, signal },
  );
  return compact(res.resource);
}

/** List resources of a type, stopping after `limit` (the stream is cancelled, not drained). */
export async function listResources(
  session: ApiSession,
  node: string,
  namespace: string,
  type: string,
  limit: number,
  signal?: AbortSignal,
): Promise<{ items: Resource[]; more: boolean }> {
  const items: Resource[] = [];
  for await (
    const msg of session.api.cosi.List(
      { namespace, type },
      { node, signal },
    )
  ) {
    if (items.length >= limit) return { items, more: true };
    if (msg.resource) items.push(compact(msg.resource));
  }
  return { items, more: false };
}
