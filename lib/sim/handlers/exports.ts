/**
 * @module Simulated exports: Kubeconfig (a real gzip tar holding one file,
 * `kubeconfig`), EtcdSnapshot (a byte stream) and GenerateClientConfiguration (a
 * certificate signed by the OS CA), control planes only.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { SimNode } from "../model.ts";
import { stringify } from "yaml";
import { issue, type Issued } from "../x509.ts";
import { etcdHealthy } from "./etcd.ts";
import { Code, type HandlerTable, one, type SimCall, SimError } from "./types.ts";

const M = "/machine.MachineService/";
const CHUNK = 32 * 1024;

/** A one-file ustar archive (512-byte header, content padded to 512, two zero blocks). */
function tarOne(name: string, content: Buffer, mode = 0o600): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s.slice(0, len), off, "ascii");
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, "0") + "\0";
  put(name, 0, 100);
  put(oct(mode, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(content.length, 12), 124, 12);
  put(oct(Math.floor(Date.now() / 1000), 12), 136, 12);
  h.fill(" ", 148, 156); // checksum field counts as spaces while summing
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([h, content, pad, Buffer.alloc(1024)]);
}

/** The admin kubeconfig the simulated cluster hands out (with a fake client key). */
export function simKubeconfig(cluster: string): string {
  const key = Buffer.from("-----BEGIN EC PRIVATE KEY-----\nsimulated\n-----END EC PRIVATE KEY-----\n").toString(
    "base64",
  );
  return `apiVersion: v1
kind: Config
clusters:
  - name: ${cluster}
    cluster:
      server: https://10.5.0.2:6443
      certificate-authority-data: ${Buffer.from("simulated ca").toString("base64")}
users:
  - name: admin@${cluster}
    user:
      client-certificate-data: ${Buffer.from("simulated cert").toString("base64")}
      client-key-data: ${key}
contexts:
  - context: { cluster: ${cluster}, namespace: default, user: admin@${cluster} }
    name: admin@${cluster}
current-context: admin@${cluster}
`;
}

/** Deterministic snapshot bytes for a node, so tests can compare hashes. */
export function simSnapshot(node: SimNode): Buffer {
  const out = Buffer.alloc(300 * 1024);
  let seed = createHash("sha256").update(node.etcdMemberId).digest();
  for (let off = 0; off < out.length; off += seed.length) {
    seed.copy(out, off);
    seed = createHash("sha256").update(seed).digest();
  }
  return out;
}

function controlPlaneOnly({ node }: SimCall, what: string) {
  if (node.role !== "controlplane") {
    throw new SimError(Code.FAILED_PRECONDITION, `${what} is only available on control plane nodes`);
  }
}

async function chunks(bytes: Buffer, send: (msg: unknown) => Promise<void>) {
  for (let off = 0; off < bytes.length; off += CHUNK) await send({ bytes: bytes.subarray(off, off + CHUNK) });
}

/**
 * A talosconfig for `roles`, as Talos builds it: the context is `<role without os:>@<cluster>` for one role,
 * else the cluster's name, and endpoints are left empty for the client to fill in.
 */
function clientTalosconfig(cluster: string, roles: string[], ca: Issued, client: Issued): string {
  const name = roles.length === 1 ? `${roles[0].replace(/^os:/, "")}@${cluster}` : cluster;
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return stringify({
    context: name,
    contexts: { [name]: { endpoints: [], ca: b64(ca.certPem), crt: b64(client.certPem), key: b64(client.keyPem) } },
  });
}

export const exportHandlers: HandlerTable = {
  unary: {
    // Signs a client certificate for the roles with the OS CA; Talos takes unknown role strings silently.
    [`${M}GenerateClientConfiguration`]: (call, req) => {
      controlPlaneOnly(call, "client configuration");
      const ttlMs = Number(req.crt_ttl?.seconds ?? 0) * 1000 + Math.floor(Number(req.crt_ttl?.nanos ?? 0) / 1e6);
      if (!(ttlMs > 0)) throw new SimError(Code.INVALID_ARGUMENT, "crt_ttl should be positive");
      const ca = call.cluster.osCa;
      if (!ca) throw new SimError(Code.UNIMPLEMENTED, "no OS CA in this simulator");
      const roles: string[] = req.roles ?? [];
      const client = issue({
        commonName: roles[0]?.replace(/^os:/, "") || "client",
        organizations: roles,
        usage: "client",
        notAfter: new Date(Date.now() + ttlMs),
      }, ca);
      return one({
        ca: Buffer.from(ca.certPem),
        crt: Buffer.from(client.certPem),
        key: Buffer.from(client.keyPem),
        talosconfig: Buffer.from(clientTalosconfig(call.cluster.name, roles, ca, client)),
      });
    },
  },
  stream: {
    [`${M}Kubeconfig`]: async (call, _req, send) => {
      controlPlaneOnly(call, "kubeconfig");
      const tgz = gzipSync(tarOne("kubeconfig", Buffer.from(simKubeconfig(call.cluster.name))));
      await chunks(tgz, send);
    },
    [`${M}EtcdSnapshot`]: async (call, _req, send) => {
      controlPlaneOnly(call, "etcd snapshot");
      if (!etcdHealthy(call.cluster, call.node)) throw new SimError(Code.UNAVAILABLE, "etcd service is not running");
      await chunks(simSnapshot(call.node), send);
    },
  },
};
