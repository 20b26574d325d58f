/**
 * @module Writes lib/talos/config_schema.json, the compact machine-config schema
 * talos_validate checks documents against, from Talos' published JSON Schema
 * (../shared/reference/talos-config/config.schema.json, or TALOS_CONFIG_SCHEMA).
 * It keeps what validation needs (types, properties, required, enums, closed
 * objects, patterns, bounds) and drops the prose. tests/unit/config_schema_test.ts
 * fails when the committed file is not what this script makes.
 *
 *   npx bun scripts/gen_config_schema.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = join(import.meta.dir, "..");
export const COMPACT_SCHEMA = join(ROOT, "lib/talos/config_schema.json");
export const UPSTREAM_SCHEMA = process.env.TALOS_CONFIG_SCHEMA ??
  resolve(ROOT, "../shared/reference/talos-config/config.schema.json");

/** The JSON Schema keywords the validator understands (lib/talos/config_validate.ts); everything else is dropped. */
const KEEP = [
  "type",
  "enum",
  "properties",
  "patternProperties",
  "additionalProperties",
  "required",
  "items",
  "oneOf",
  "pattern",
  "minimum",
  "maximum",
  "minItems",
  "$ref",
] as const;

type Json = Record<string, unknown>;

/**
 * Fields of the v1alpha1 document that Talos still decodes but whose schema no
 * longer lists them: since 1.14 the schema documents only what stays in
 * v1alpha1, and these settings moved to their own documents (KubeletConfig,
 * UnattendedInstallConfig, KubeClusterConfig, ...). Configs written by
 * `talosctl gen config` up to 1.13 are made of them, so rejecting them would
 * reject every existing cluster's config. Where the validator has a semantic
 * check (endpoint, install disk, subnets, PEM) the shape is spelled out;
 * elsewhere only the value's type is checked.
 */
const obj = (properties?: Record<string, Json>): Json =>
  properties ? { type: "object", properties, additionalProperties: false } : { type: "object" };
const str: Json = { type: "string" };
const bool: Json = { type: "boolean" };
const strings: Json = { type: "array", items: str };
const arr: Json = { type: "array" };
const pem = obj({ crt: str, key: str });

const LEGACY: Record<string, Record<string, Json>> = {
  "v1alpha1.Config": { persist: bool },
  "v1alpha1.MachineConfig": {
    // Widened from the schema's enum: init and join still decode, deprecated (a semantic check warns).
    type: str,
    // The schema describes it as one {crt} object; Talos' Go type is a list of them, as configs write it.
    acceptedCAs: { oneOf: [{ type: "array", items: obj({ crt: str }) }, obj({ crt: str })] },
    controlPlane: obj(),
    kubelet: obj(),
    pods: arr,
    network: obj(),
    disks: arr,
    install: obj({
      disk: str,
      diskSelector: obj(),
      extraKernelArgs: strings,
      image: str,
      extensions: arr,
      wipe: bool,
      legacyBIOSSupport: bool,
      grubUseUKICmdline: bool,
    }),
    files: arr,
    env: obj(),
    time: obj(),
    sysctls: obj(),
    sysfs: obj(),
    registries: obj(),
    systemDiskEncryption: obj(),
    udev: obj(),
    kernel: obj(),
    baseRuntimeSpecOverrides: obj(),
    nodeLabels: obj(),
    nodeAnnotations: obj(),
    nodeTaints: obj(),
  },
  "v1alpha1.FeaturesConfig": {
    rbac: bool,
    stableHostname: bool,
    apidCheckExtKeyUsage: bool,
    kubernetesTalosAPIAccess: obj(),
    kubePrism: obj(),
    hostDNS: obj(),
    imageCache: obj(),
  },
  "v1alpha1.ClusterConfig": {
    id: str,
    secret: str,
    controlPlane: obj({ endpoint: str, localAPIServerPort: { type: "integer" } }),
    clusterName: str,
    network: obj({ cni: obj(), dnsDomain: str, podSubnets: strings, serviceSubnets: strings }),
    aescbcEncryptionSecret: str,
    secretboxEncryptionSecret: str,
    ca: pem,
    acceptedCAs: { type: "array", items: obj({ crt: str }) },
    aggregatorCA: pem,
    serviceAccount: obj({ key: str }),
    apiServer: obj(),
    controllerManager: obj(),
    proxy: obj(),
    scheduler: obj(),
    discovery: obj(),
    coreDNS: obj(),
    extraManifests: strings,
    extraManifestHeaders: obj(),
    inlineManifests: arr,
    allowSchedulingOnControlPlanes: bool,
    allowSchedulingOnMasters: bool,
  },
};

export interface CompactSchema {
  /** The upstream schema's $id: which Talos version it describes. */
  source: string;
  /** The v1alpha1 document (`version: v1alpha1`, no kind): its definition. */
  v1alpha1: string;
  /** Every other document kind (apiVersion v1alpha1) and its definition. */
  kinds: Record<string, string>;
  defs: Record<string, Json>;
}

function compact(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(compact);
  if (!node || typeof node !== "object") return node;
  const n = node as Json;
  if (typeof n.$ref === "string") return { $ref: n.$ref.replace("#/$defs/", "") }; // siblings are prose
  const out: Json = {};
  for (const k of KEEP) {
    if (!(k in n)) continue;
    const v = n[k];
    if (k === "properties" || k === "patternProperties") {
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([name, s]) => [name, compact(s)]));
    } else out[k] = k === "enum" || k === "required" ? v : compact(v);
  }
  return out;
}

/** Derives the compact schema from Talos' published one. */
export function compactSchema(upstream: Json): CompactSchema {
  const defs = upstream.$defs as Record<string, Json>;
  const roots = (upstream.oneOf as Json[]).map((r) => String(r.$ref).replace("#/$defs/", ""));
  const out: Record<string, Json> = {};
  for (const [name, def] of Object.entries(defs)) {
    const c = compact(def) as Json;
    const props = c.properties as Record<string, Json> | undefined;
    // An object with no properties and nothing else allowed is a Go type with its own YAML form
    // (v1alpha1.Endpoint is a URL string): the schema cannot say what it looks like, so accept any value.
    if (c.type === "object" && props && Object.keys(props).length === 0 && c.additionalProperties === false) {
      out[name] = {};
      continue;
    }
    if (LEGACY[name]) c.properties = { ...props, ...LEGACY[name] };
    out[name] = c;
  }
  for (const name of Object.keys(LEGACY)) if (!defs[name]) throw new Error(`upstream schema has no ${name}`);

  let v1alpha1 = "";
  const kinds: Record<string, string> = {};
  for (const root of roots) {
    const props = (defs[root]?.properties ?? {}) as Record<string, Json>;
    const kind = (props.kind?.enum as string[] | undefined)?.[0];
    if (kind) kinds[kind] = root;
    else if ((props.version?.enum as string[] | undefined)?.[0] === "v1alpha1") v1alpha1 = root;
    else throw new Error(`document ${root} has neither kind nor version`);
  }
  if (!v1alpha1) throw new Error("upstream schema has no v1alpha1 document");

  // Only what the documents reach, in a stable order.
  const reached = new Set<string>();
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(visit);
    if (!n || typeof n !== "object") return;
    const ref = (n as Json).$ref;
    if (typeof ref === "string" && !reached.has(ref)) {
      reached.add(ref);
      visit(out[ref]);
    }
    for (const v of Object.values(n as Json)) visit(v);
  };
  visit(roots.map((r) => ({ $ref: r })));
  const sortedKinds = Object.fromEntries(Object.entries(kinds).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    source: String(upstream.$id),
    v1alpha1,
    kinds: sortedKinds,
    defs: Object.fromEntries([...reached].sort().map((name) => [name, out[name]])),
  };
}

export function renderCompactSchema(upstreamPath = UPSTREAM_SCHEMA): string {
  return `${JSON.stringify(compactSchema(JSON.parse(readFileSync(upstreamPath, "utf8"))), null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(COMPACT_SCHEMA, renderCompactSchema());
  console.log(`wrote ${COMPACT_SCHEMA}`);
}
