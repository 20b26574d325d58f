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
const INLINE = /\b([A-Za-z_-]*(?:token|secret|password|passwd))(\s*[=:]\s*)("?)([^\s"',;]{4,})\3/gi;

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
      .replace(INLINE, (_m, k, sep, q) => `${k}${sep}${q}${masked("secret")}${q}`),
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
