/**
 * @module A whole machine config from a local file: read with bounds (its content never goes into a
 * result or a log line), validated offline, and its cluster identity compared with a node's.
 */
import { createHash } from "node:crypto";
import { parseAllDocuments } from "yaml";
import { ToolError } from "../errors.ts";
import { readLocalBytes } from "../local_file.ts";

/** Machine configs are tens of KiB; a bigger file is the wrong file. */
export const MAX_CONFIG_BYTES = 1 << 20;

export interface ConfigFile {
  path: string;
  bytes: number;
  sha256: string;
  data: Buffer;
}

/** Reads `path` (lib/local_file.ts: absolute, a regular file, at most 1 MiB) and its sha256. */
export function readConfigFile(path: string): ConfigFile {
  const data = readLocalBytes(path, MAX_CONFIG_BYTES, "config_file");
  return { path, bytes: data.length, sha256: createHash("sha256").update(data).digest("hex"), data };
}

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === "object" && !Array.isArray(x);
/** The v1alpha1 document: `version: v1alpha1` and no `kind` (the other documents have kinds). */
const isV1alpha1 = (d: unknown) => isObj(d) && d.version === "v1alpha1" && !("kind" in d);

/** At most this many validation errors are named in a refusal; the rest are counted. */
const SHOWN_ISSUES = 5;

/**
 * The offline validation before a config is sent (lib/talos/config_validate.ts): YAML, document kinds,
 * the config schema and Talos' own semantic checks. The install disk is left to the node (mode cloud):
 * an installed node's config may leave it to the platform, and the node's dry run says so if it matters.
 * Errors refuse the call; they name paths and lines, never the file's content (it may hold secrets, and
 * errors reach the agent).
 */
export async function checkConfigLocally(data: Buffer): Promise<unknown[]> {
  const text = data.toString("utf8");
  // Loaded on first use: the validator and its schema cost start-up time every session would pay.
  const { validateMachineConfig } = await import("./config_validate.ts");
  const result = validateMachineConfig(text, { mode: "cloud", strict: false });
  if (!result.valid) {
    const shown = result.errors.slice(0, SHOWN_ISSUES).map((i) => {
      const where = [i.kind && `${i.kind} document`, i.path, i.line ? `line ${i.line}` : ""].filter(Boolean);
      return `${where.join(", ")}: ${i.message}`;
    });
    const more = result.errors.length - shown.length + (result.omitted ?? 0);
    throw new ToolError(
      `The config file is not a valid machine config (talos_validate shows every issue): ${shown.join("; ")}` +
        `${more > 0 ? `; and ${more} more` : ""}. Nothing was sent.`,
      "INVALID_ARGUMENT",
    );
  }
  const docs = parseAllDocuments(text).map((d) => d.toJS()).filter((d) => d !== null);
  if (!docs.some(isV1alpha1)) {
    throw new ToolError(
      "The config file has no v1alpha1 document (the one with version: v1alpha1, machine and cluster), so it is " +
        "not a whole machine config. To change part of a config, use talos_patch_config. Nothing was sent.",
      "INVALID_ARGUMENT",
    );
  }
  return docs;
}

/** What ties a config to its cluster: the cluster id and the Kubernetes CA certificate. */
export interface ClusterIdentity {
  id?: string;
  caCrt?: string;
}

export function clusterIdentity(docs: readonly unknown[]): ClusterIdentity {
  const v1 = docs.find(isV1alpha1) as { cluster?: { id?: unknown; ca?: { crt?: unknown } } } | undefined;
  const c = v1?.cluster;
  return {
    ...(typeof c?.id === "string" ? { id: c.id } : {}),
    ...(typeof c?.ca?.crt === "string" ? { caCrt: c.ca.crt } : {}),
  };
}

/** Which parts of the identity differ ("cluster id", "cluster CA"); empty when the same. Values never shown. */
export function identityDifferences(current: ClusterIdentity, next: ClusterIdentity): string[] {
  const out: string[] = [];
  if (current.id !== next.id) out.push("cluster id (cluster.id)");
  if (current.caCrt !== next.caCrt) out.push("cluster CA (cluster.ca.crt)");
  return out;
}
