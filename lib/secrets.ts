/**
 * @module Secret masking. Tool output goes to an LLM provider, so secret
 * material is replaced by a marker that says what was hidden, unless the user
 * set TALOS_MCP_SHOW_SECRETS=true.
 */

/** Marker that replaces a secret; says what kind it was so the agent can explain. */
export const masked = (what: string) => `<masked: ${what}>`;

/** Keys whose values are secrets wherever they appear (machine config, registry auth, ...). */
const SECRET_KEY =
  /(^|[^a-z])(token|secret|password|passphrase|privatekey|private_key|bootstraptoken|identitytoken|auth)$/i;
const SECRET_SUFFIX = /(token|secret|password|passphrase|privatekey)$/i;

const PEM_PRIVATE = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g;
/** base64 of "-----BEGIN": a PEM block stored base64-encoded, as Talos configs do. */
const B64_PEM = /LS0tLS1CRUdJT[A-Za-z0-9+/=]{20,}/g;
/** Kubernetes bootstrap / Talos machine tokens: [a-z0-9]{6}.[a-z0-9]{16}. */
const BOOTSTRAP_TOKEN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g;
/** JSON Web Tokens (service account tokens in logs). */
const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;
/** `key=value` style secrets in log lines and command lines. */
const INLINE =
  /\b([A-Za-z_-]*(?:token|secret|password|passwd|api[_-]?key|access[_-]?key))(\s*[=:]\s*)("?)(?!<masked)([^\s"',;]{4,})\3/gi;
/** `--client-secret value`: a secret-named command-line flag followed by its value after a space. */
const FLAG_SPACE = /(\s--?[A-Za-z0-9_-]*(?:token|secret|password|passwd|api-?key))(\s+)(?!<masked|-)([^\s"',;]{4,})/gi;
/** HTTP credentials in log lines: `Authorization: Bearer …`, `Basic …`. */
const HTTP_AUTH = /\b(Bearer|Basic)(\s+)(?!<masked)[A-Za-z0-9._~+/=-]{8,}/g;
/** Credentials in URLs: scheme://user:password@host. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):(?!<masked)[^\s@/]+@/gi;

function maskBase64Pem(s: string): string {
  return s.replace(B64_PEM, (b64) => {
    const text = Buffer.from(b64, "base64").toString("utf8");
    return /PRIVATE KEY-----/.test(text) ? masked("private key") : b64;
  });
}

/** Masks secrets inside free text: PEM private keys, tokens, `password=...`. */
export function maskText(s: string): string {
  return maskBase64Pem(
    s.replace(PEM_PRIVATE, masked("private key"))
      .replace(JWT, masked("token"))
      .replace(BOOTSTRAP_TOKEN, masked("token"))
      .replace(HTTP_AUTH, (_m, scheme, sp) => `${scheme}${sp}${masked("credential")}`)
      .replace(URL_CREDENTIALS, (_m, head) => `${head}:${masked("password")}@`)
      .replace(INLINE, (_m, k, sep, q) => `${k}${sep}${q}${masked("secret")}${q}`)
      .replace(FLAG_SPACE, (_m, flag, sp) => `${flag}${sp}${masked("secret")}`),
  );
}

/** Masks a structured value (parsed YAML/JSON): secret-named keys, then every string as text. */
export function maskValue<T>(value: T): T {
  return walk(value, "") as T;
}

function walk(v: unknown, key: string): unknown {
  if (typeof v === "string") {
    if (v !== "" && (SECRET_KEY.test(key) || SECRET_SUFFIX.test(key))) return masked(key);
    return maskText(v);
  }
  if (Array.isArray(v)) return v.map((x) => walk(x, key));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
    return out;
  }
  return v;
}

/**
 * Directories whose files hold key material on a Talos node: Talos' own PKI
 * and service secrets, kubelet and Kubernetes keys, and etcd's data (every
 * Kubernetes Secret). Only certificates (public) are shown from them.
 */
const SECRET_DIRS: readonly string[] = [
  "/system/secrets",
  "/var/lib/kubelet/pki",
  "/etc/kubernetes/pki",
  "/var/lib/etcd",
  "/system/state",
];

/** File names that hold private keys wherever they live. */
const SECRET_FILE = /(\.key|-key\.pem|_key|\.p12|\.pfx|\.jks)$/i;
const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g;

/** Whether a node path is one whose content is key material (by location or name). */
export function isSecretPath(path: string): boolean {
  return SECRET_DIRS.some((d) => path === d || path.startsWith(d + "/")) || SECRET_FILE.test(path) ||
    /^\/proc\/(\d+|self)\/environ$/.test(path);
}

/**
 * Masks the text content of the node file at `path`: free-text masking for
 * every file; for secret paths only certificate blocks survive (a kubelet
 * `*-current.pem` holds certificate and key together), and a process
 * environment keeps its variable names but not their values.
 */
export function maskFile(path: string, content: string): string {
  if (/^\/proc\/(\d+|self)\/environ$/.test(path)) {
    return content.split("\0").map((kv) => kv.replace(/=.*$/s, `=${masked("value")}`)).join("\0");
  }
  if (!isSecretPath(path)) return maskText(content);
  const certs = content.match(CERT_BLOCK) ?? [];
  const rest = content.replace(CERT_BLOCK, "").trim();
  if (!rest) return content;
  return [...certs, masked(`${path} (secret material; TALOS_MCP_SHOW_SECRETS=true shows it)`)].join("");
}
