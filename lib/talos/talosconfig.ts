/**
 * @module talosconfig: which file, which context, and the mTLS material in it,
 * following talosctl's rules. Problems become ToolErrors
 * that name the file and the fix; the server keeps running.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ToolError } from "../errors.ts";

export interface CertInfo {
  subject: string;
  /** Talos roles: the certificate's Organization values (os:admin, ...). */
  roles: string[];
  notBefore: Date;
  notAfter: Date;
  fingerprint: string;
}

/** One context, ready to dial. */
export interface TalosContext {
  name: string;
  file: string;
  /** host:port pairs, normalised. */
  endpoints: string[];
  /** Default targets; may be empty. */
  nodes: string[];
  caPem: string;
  certPem: string;
  /** Private key PEM with the Ed25519 label fixed for OpenSSL. */
  keyPem: string;
  cluster?: string;
  cert: CertInfo;
}

export interface TalosconfigFile {
  path: string;
  current: string;
  contexts: Record<string, Record<string, unknown>>;
}

type Env = Record<string, string | undefined>;

/** Candidate paths in talosctl's order: $TALOSCONFIG, $TALOS_HOME/config or ~/.talos/config, the in-pod mount. */
export function candidatePaths(env: Env = process.env): string[] {
  const out: string[] = [];
  if (env.TALOSCONFIG) out.push(env.TALOSCONFIG);
  const home = env.TALOS_HOME && isAbsolute(env.TALOS_HOME) ? env.TALOS_HOME : join(env.HOME || homedir(), ".talos");
  out.push(join(home, "config"));
  out.push("/var/run/secrets/talos.dev/config");
  return out;
}

/** First existing candidate; a set TALOSCONFIG that does not exist is an error, as it is a typo. */
export function locateTalosconfig(env: Env = process.env): string {
  if (env.TALOSCONFIG) {
    if (!exists(env.TALOSCONFIG)) {
      throw new ToolError(
        `TALOSCONFIG=${env.TALOSCONFIG} does not exist. Point TALOSCONFIG at your talosconfig file ` +
          `(talosctl config info shows which one talosctl uses).`,
        "CONFIG",
      );
    }
    return env.TALOSCONFIG;
  }
  const tried = candidatePaths(env);
  const found = tried.find(exists);
  if (!found) {
    throw new ToolError(
      `No talosconfig found (looked in ${tried.join(", ")}). Set TALOSCONFIG to your talosconfig file, ` +
        `or generate one with talosctl gen config.`,
      "CONFIG",
    );
  }
  return found;
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const fileCache = new Map<string, { mtimeMs: number; size: number; checked: number; file: TalosconfigFile }>();
/** How long a parsed talosconfig is trusted before its mtime is looked at again. */
const RECHECK_MS = 1_000;

/** Reads and parses a talosconfig, re-reading it when it changes on disk. */
export function readTalosconfig(path: string): TalosconfigFile {
  const hit = fileCache.get(path);
  if (hit && Date.now() - hit.checked < RECHECK_MS) return hit.file;
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new ToolError(`Cannot read talosconfig ${path}: ${(err as Error).message}`, "CONFIG");
  }
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) {
    hit.checked = Date.now();
    return hit.file;
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ToolError(`talosconfig ${path} is not valid YAML: ${(err as Error).message.split("\n")[0]}`, "CONFIG");
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ToolError(`talosconfig ${path} is empty or not a mapping; expected keys context and contexts.`, "CONFIG");
  }
  const { context, contexts } = doc as { context?: unknown; contexts?: unknown };
  if (contexts === null || typeof contexts !== "object" || Array.isArray(contexts)) {
    throw new ToolError(`talosconfig ${path} has no contexts; generate one with talosctl gen config.`, "CONFIG");
  }
  const file = {
    path,
    current: typeof context === "string" ? context : "",
    contexts: contexts as Record<string, Record<string, unknown>>,
  };
  fileCache.set(path, { mtimeMs: st.mtimeMs, size: st.size, checked: Date.now(), file });
  return file;
}

/** talosctl's endpoint normalisation: default port 50000, https → 443. */
export function normaliseEndpoint(raw: string): string {
  let s = raw.trim();
  let defaultPort = 50000;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (scheme) {
    if (scheme[1].toLowerCase() === "https") defaultPort = 443;
    s = s.slice(scheme[0].length).replace(/\/.*$/, "");
  }
  if (s.startsWith("[")) return s.includes("]:") ? s : `${s}:${defaultPort}`;
  const colons = (s.match(/:/g) ?? []).length;
  if (colons > 1) return `[${s}]:${defaultPort}`; // bare IPv6
  return colons === 1 ? s : `${s}:${defaultPort}`;
}

/** Host part of a host:port endpoint, without IPv6 brackets. */
export function endpointHost(endpoint: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(endpoint);
  if (m) return m[1];
  return endpoint.replace(/:\d+$/, "");
}

function decodePem(ctxName: string, file: string, field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ToolError(
      `Context "${ctxName}" in ${file} has no ${field}. Regenerate the context (talosctl config new) ` +
        `or copy ${field} from a working talosconfig.`,
      "CONFIG",
    );
  }
  const pem = Buffer.from(value, "base64").toString("utf8");
  if (!pem.includes("-----BEGIN ")) {
    throw new ToolError(
      `Context "${ctxName}" in ${file}: ${field} is not base64 of a PEM block. It must be the base64 ` +
        `encoding of the PEM text, as talosctl writes it.`,
      "CONFIG",
    );
  }
  return pem;
}

/** Talos labels Ed25519 PKCS#8 keys `ED25519 PRIVATE KEY`; OpenSSL and Bun want `PRIVATE KEY`. */
export function fixKeyLabel(pem: string): string {
  return pem.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, "-----$1 PRIVATE KEY-----");
}

/** Roles, validity and fingerprint of a PEM certificate. */
export function certInfo(certPem: string): CertInfo {
  const x = new X509Certificate(certPem);
  const roles = x.subject.split("\n").flatMap((line) => {
    const m = /^O=(.*)$/.exec(line);
    return m ? m[1].split("+").map((s) => s.trim()).filter(Boolean) : [];
  });
  return {
    subject: x.subject.replace(/\n/g, ", "),
    roles,
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    fingerprint: x.fingerprint256,
  };
}

/**
 * Resolves a context (explicit name, else TALOS_CONTEXT, else the file's
 * current one) into dialable material. TALOS_ENDPOINTS overrides endpoints.
 */
export function resolveContext(file: TalosconfigFile, name?: string, env: Env = process.env): TalosContext {
  const wanted = name || env.TALOS_CONTEXT || file.current;
  const names = Object.keys(file.contexts);
  if (!wanted) {
    throw new ToolError(
      `talosconfig ${file.path} has no current context; pass context (one of: ${names.join(", ") || "none"}) ` +
        `or run talosctl config context <name>.`,
      "CONFIG",
    );
  }
  const raw = file.contexts[wanted];
  if (!raw || typeof raw !== "object") {
    throw new ToolError(
      `Context "${wanted}" not found in ${file.path}; available: ${names.join(", ") || "none"}.`,
      "CONFIG",
    );
  }
  const auth = raw.auth as Record<string, unknown> | undefined;
  if (auth?.siderov1 && !raw.crt) {
    throw new ToolError(
      `Context "${wanted}" uses Omni SideroV1 auth, which talos-mcp does not support; use a context with ` +
        `a client certificate (talosctl config new).`,
      "CONFIG",
    );
  }
  const envEndpoints = (env.TALOS_ENDPOINTS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const rawEndpoints = envEndpoints.length ? envEndpoints : strings(raw.endpoints);
  if (typeof raw.target === "string" && raw.target) rawEndpoints.push(raw.target); // legacy field
  if (rawEndpoints.length === 0) {
    throw new ToolError(
      `Context "${wanted}" in ${file.path} has no endpoints. Set them with talosctl config endpoint <ip> ` +
        `or the TALOS_ENDPOINTS variable.`,
      "CONFIG",
    );
  }
  const caPem = decodePem(wanted, file.path, "ca", raw.ca);
  const certPem = decodePem(wanted, file.path, "crt", raw.crt);
  const keyPem = fixKeyLabel(decodePem(wanted, file.path, "key", raw.key));
  let cert: CertInfo;
  try {
    cert = certInfo(certPem);
    new X509Certificate(caPem);
  } catch (err) {
    throw new ToolError(
      `Context "${wanted}" in ${file.path}: crt or ca is not a valid PEM certificate (${(err as Error).message}).`,
      "CONFIG",
    );
  }
  try {
    createPrivateKey(keyPem);
  } catch (err) {
    throw new ToolError(
      `Context "${wanted}" in ${file.path}: key is not a usable private key (${(err as Error).message}).`,
      "CONFIG",
    );
  }
  return {
    name: wanted,
    file: file.path,
    endpoints: [...new Set(rawEndpoints.map(normaliseEndpoint))],
    nodes: strings(raw.nodes),
    caPem,
    certPem,
    keyPem,
    cluster: typeof raw.cluster === "string" && raw.cluster ? raw.cluster : undefined,
    cert,
  };
}

/** Fails early, without dialing, when the client certificate is outside its validity window. */
export function assertCertValid(ctx: TalosContext, now = new Date()): void {
  if (now > ctx.cert.notAfter) {
    throw new ToolError(
      `The client certificate of context "${ctx.name}" expired on ${ctx.cert.notAfter.toISOString()}. ` +
        `Issue a new one (talosctl config new, or regenerate the talosconfig) and update ${ctx.file}.`,
      "CERT_EXPIRED",
    );
  }
  if (now < ctx.cert.notBefore) {
    throw new ToolError(
      `The client certificate of context "${ctx.name}" is not valid until ${ctx.cert.notBefore.toISOString()}; ` +
        `check this machine's clock.`,
      "CERT_NOT_YET_VALID",
    );
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === "string" && s.trim() !== "") : [];
}
