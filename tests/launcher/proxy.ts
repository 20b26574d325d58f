/**
 * @module A loopback HTTPS release behind a CONNECT proxy, for the launcher's
 * HTTPS_PROXY support: the release answers only as `release.test` (a name
 * nothing resolves but the proxy), with a certificate from a test CA.
 */
import { createServer as createHttp, type IncomingMessage } from "node:http";
import { createServer as createHttps } from "node:https";
import { type AddressInfo, connect, type Socket } from "node:net";
import { issue } from "../../lib/sim/x509.ts";

export interface ProxiedRelease {
  /** https://release.test:<port> */
  url: string;
  /** http://user:pass@127.0.0.1:<port> */
  proxyUrl: string;
  caPem: string;
  /** CONNECT targets the proxy was asked for, and whether it let them through. */
  connects: Array<{ target: string; allowed: boolean }>;
  close(): Promise<void>;
}

const pem = (key: { export(o: object): string | Buffer }) => key.export({ type: "pkcs8", format: "pem" }).toString();

/** Serves `files` under /v<version>/ over HTTPS, reachable only through the proxy. */
export async function startProxiedRelease(version: string, files: Map<string, Buffer>): Promise<ProxiedRelease> {
  const ca = issue({ commonName: "launcher test CA", isCa: true });
  const leaf = issue({ commonName: "release.test", altNames: ["release.test"], usage: "server" }, ca);
  const https = createHttps({ cert: leaf.certPem, key: pem(leaf.key) }, (req, res) => {
    const body = files.get((req.url ?? "").replace(`/v${version}/`, ""));
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
  const httpsPort = (https.address() as AddressInfo).port;

  const connects: ProxiedRelease["connects"] = [];
  const sockets = new Set<Socket>();
  const proxy = createHttp((_req, res) => res.writeHead(405).end());
  proxy.on("connect", (req: IncomingMessage, client: Socket) => {
    const target = req.url ?? "";
    const allowed = req.headers["proxy-authorization"] === `Basic ${Buffer.from("user:p@ss").toString("base64")}` &&
      target === `release.test:${httpsPort}`;
    connects.push({ target, allowed });
    if (!allowed) {
      client.end("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
      return;
    }
    const upstream = connect(httpsPort, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  return {
    url: `https://release.test:${httpsPort}`,
    proxyUrl: `http://user:p%40ss@127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    caPem: ca.certPem,
    connects,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([https, proxy].map((s) => new Promise((r) => s.close(r))));
    },
  };
}
