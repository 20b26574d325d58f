/**
 * @module HTTP(S) GET for the launcher on node:http/https alone: redirects,
 * deadlines, size limits, and HTTP(S)_PROXY / NO_PROXY (Node's fetch ignores
 * them), via CONNECT tunnels for https.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import tls from "node:tls";

const MAX_REDIRECTS = 5;

/** The proxy URL for `url` from the environment, or null (no proxy, or NO_PROXY matches). */
export function proxyFor(url, env = process.env) {
  const u = new URL(url);
  const raw = u.protocol === "https:" ? env.HTTPS_PROXY ?? env.https_proxy : env.HTTP_PROXY ?? env.http_proxy;
  if (!raw || bypassed(u, env.NO_PROXY ?? env.no_proxy ?? "")) return null;
  return new URL(raw.includes("://") ? raw : `http://${raw}`);
}

/** NO_PROXY as curl reads it: `*`, host names (a leading dot optional), suffixes, optional :port. */
function bypassed(u, noProxy) {
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  for (let entry of noProxy.split(/[\s,]+/).filter(Boolean)) {
    if (entry === "*") return true;
    let entryPort = "";
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m && !entry.endsWith("]") && !isIP(entry)) [, entry, entryPort] = m;
    entry = entry.replace(/^\*?\./, "").replace(/^\[|\]$/g, "").toLowerCase();
    if (entryPort && entryPort !== port) continue;
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

function proxyAuth(proxy) {
  if (!proxy.username) return {};
  const creds = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { "proxy-authorization": `Basic ${Buffer.from(creds).toString("base64")}` };
}

/** Where a request goes, without credentials, for messages. */
function where(url) {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.href;
}

/** Opens a CONNECT tunnel through `proxy` to the https `u`, resolving to a TLS socket. */
function tunnel(proxy, u, idleMs) {
  return new Promise((resolve, reject) => {
    const target = `${u.hostname}:${u.port || 443}`;
    const req = http.request({
      host: proxy.hostname,
      port: proxy.port || 80,
      method: "CONNECT",
      path: target,
      headers: { host: target, ...proxyAuth(proxy) },
    });
    req.setTimeout(idleMs, () => req.destroy(new Error(`proxy ${proxy.host} did not answer CONNECT in ${idleMs} ms`)));
    req.on("error", (err) => reject(new Error(`proxy ${proxy.host}: ${err.message}`)));
    req.on("connect", (res, socket) => {
      req.setTimeout(0);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`proxy ${proxy.host} refused CONNECT to ${target}: HTTP ${res.statusCode}`));
        return;
      }
      const host = u.hostname.replace(/^\[|\]$/g, "");
      resolve(tls.connect({ socket, host, servername: isIP(host) ? undefined : host }));
    });
    req.end();
  });
}

/** One GET without following redirects; resolves to the response. */
async function request(url, env, idleMs) {
  const u = new URL(url);
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error(`unsupported URL ${where(url)}`);
  const proxy = proxyFor(url, env);
  const headers = { "user-agent": "talos-mcp-launcher", accept: "*/*" };
  let req;
  if (proxy && u.protocol === "https:") {
    const socket = await tunnel(proxy, u, idleMs);
    const agent = new https.Agent({ keepAlive: false });
    agent.createConnection = () => socket;
    req = https.request(u, { headers, agent });
  } else if (proxy) {
    req = http.request({
      host: proxy.hostname,
      port: proxy.port || 80,
      path: u.href,
      headers: { ...headers, host: u.host, ...proxyAuth(proxy) },
    });
  } else {
    req = (u.protocol === "https:" ? https : http).request(u, { headers });
  }
  return new Promise((resolve, reject) => {
    req.setTimeout(idleMs, () => req.destroy(new Error(`no answer from ${u.host} in ${idleMs} ms`)));
    req.on("error", reject);
    req.on("response", resolve);
    req.end();
  });
}

/** GET following redirects (never https → http); resolves to a 200 response. */
async function get(url, env, idleMs) {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await request(current, env, idleMs);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      const next = new URL(res.headers.location, current);
      if (new URL(current).protocol === "https:" && next.protocol !== "https:") {
        throw new Error(`${where(current)} redirected to insecure ${where(next.href)}`);
      }
      current = next.href;
      continue;
    }
    if (status !== 200) {
      res.resume();
      throw new Error(`HTTP ${status} for ${where(current)}`);
    }
    return { res, url: current };
  }
  throw new Error(`too many redirects from ${where(url)}`);
}

/**
 * Streams a GET into `sink(chunk)`, with a deadline per silence (idleMs) and
 * for the whole transfer (totalMs), a size cap, and a check that the body is
 * as long as Content-Length says. Resolves to the sha256 (hex) and length.
 */
export async function download(url, sink, opts) {
  const { env = process.env, idleMs = 30_000, totalMs = 600_000, maxBytes } = opts;
  const { res, url: finalUrl } = await get(url, env, idleMs);
  const expected = res.headers["content-length"] === undefined ? undefined : Number(res.headers["content-length"]);
  if (expected !== undefined && expected > maxBytes) {
    res.destroy();
    throw new Error(`${where(finalUrl)} is ${expected} bytes, more than the ${maxBytes} expected`);
  }
  const hash = createHash("sha256");
  let bytes = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => res.destroy(new Error(`download took longer than ${totalMs} ms`)), totalMs);
    const fail = (err) => {
      clearTimeout(timer);
      reject(err);
    };
    res.on("data", (chunk) => {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        res.destroy(new Error(`${where(finalUrl)} sent more than ${maxBytes} bytes`));
        return;
      }
      hash.update(chunk);
      try {
        sink(chunk);
      } catch (err) {
        res.destroy(err);
      }
    });
    res.on("aborted", () => fail(new Error(`connection closed after ${bytes} of ${expected ?? "unknown"} bytes`)));
    res.on("error", fail);
    res.on("end", () => {
      clearTimeout(timer);
      resolve();
    });
  }).catch((err) => {
    throw new Error(`download of ${where(finalUrl)} failed: ${err.message}`);
  });
  if (expected !== undefined && bytes !== expected) {
    throw new Error(`download of ${where(finalUrl)} was cut short: got ${bytes} of ${expected} bytes`);
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** GET into memory (small files such as checksums.txt). */
export async function fetchBuffer(url, opts) {
  const chunks = [];
  const r = await download(url, (c) => chunks.push(c), opts);
  return { body: Buffer.concat(chunks), ...r };
}

/** GET into a new file at `path` (created exclusively, mode 0755). */
export async function fetchToFile(url, path, opts) {
  const fd = openSync(path, "wx", 0o755);
  try {
    return await download(url, (c) => {
      for (let off = 0; off < c.length;) off += writeSync(fd, c, off);
    }, opts);
  } finally {
    closeSync(fd);
  }
}
