/**
 * @module Minimal X.509 issuance for the simulated cluster: Ed25519 CA and leaf
 * certificates, DER-encoded by hand so the simulator needs neither openssl nor
 * an ASN.1 library in the shipped binary. Only what Talos certificates carry.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { isIP } from "node:net";

/** A certificate with its private key, both PEM. */
export interface Issued {
  certPem: string;
  keyPem: string;
  key: KeyObject;
  subjectDer: Uint8Array;
}

export interface CertRequest {
  commonName: string;
  organizations?: string[];
  /** DNS names and IP addresses for subjectAltName. */
  altNames?: string[];
  isCa?: boolean;
  usage?: "server" | "client" | "both";
  notBefore?: Date;
  notAfter?: Date;
}

// --- DER encoding -----------------------------------------------------------

function len(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>>= 8) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(parts);
  return concat([Uint8Array.of(tag), len(body.length), body]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const seq = (...p: Uint8Array[]) => tlv(0x30, ...p);
const set = (...p: Uint8Array[]) => tlv(0x31, ...p);
const octets = (b: Uint8Array) => tlv(0x04, b);
const bitString = (b: Uint8Array) => tlv(0x03, Uint8Array.of(0), b);
const utf8 = (s: string) => tlv(0x0c, new TextEncoder().encode(s));
const bool = (v: boolean) => tlv(0x01, Uint8Array.of(v ? 0xff : 0));
const explicit = (n: number, inner: Uint8Array) => tlv(0xa0 | n, inner);

function integer(bytes: Uint8Array): Uint8Array {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1] & 0x80) === 0) b = b.subarray(1);
  if (b[0] & 0x80) b = concat([Uint8Array.of(0), b]);
  return tlv(0x02, b);
}

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk: number[] = [];
    for (let v = n;; v = Math.floor(v / 128)) {
      chunk.unshift((v % 128) | (chunk.length ? 0x80 : 0));
      if (v < 128) break;
    }
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

function time(d: Date): Uint8Array {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
  // UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, new TextEncoder().encode(iso.slice(2)))
    : tlv(0x18, new TextEncoder().encode(iso));
}

function ipBytes(ip: string): Uint8Array {
  if (isIP(ip) === 4) return Uint8Array.from(ip.split(".").map(Number));
  const [head, tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return Uint8Array.from(groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  }));
}

function name(commonName: string, organizations: string[] = []): Uint8Array {
  const rdn = (type: string, value: string) => set(seq(oid(type), utf8(value)));
  return seq(...organizations.map((o) => rdn("2.5.4.10", o)), rdn("2.5.4.3", commonName));
}

const ED25519 = seq(oid("1.3.101.112"));

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

// --- issuance -----------------------------------------------------------------

function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/**
 * Issues a certificate signed by `issuer` (self-signed when absent). Keys are
 * Ed25519, as Talos uses; the key PEM carries Talos' `ED25519 PRIVATE KEY`
 * label so the simulator's talosconfig looks like a real one.
 */
export function issue(req: CertRequest, issuer?: Issued): Issued {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const spki = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
  const subject = name(req.commonName, req.organizations);
  const notBefore = req.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = req.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
  const keyId = new Uint8Array(randomBytes(20));

  const exts: Uint8Array[] = [
    extension("2.5.29.19", true, req.isCa ? seq(bool(true)) : seq()),
    // keyUsage: CA → keyCertSign|cRLSign, leaf → digitalSignature.
    extension("2.5.29.15", true, req.isCa ? bitString(Uint8Array.of(0x06)) : bitString(Uint8Array.of(0x80))),
    extension("2.5.29.14", false, octets(keyId)),
  ];
  if (!req.isCa) {
    const usages = req.usage === "client"
      ? ["1.3.6.1.5.5.7.3.2"]
      : req.usage === "both"
      ? ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]
      : ["1.3.6.1.5.5.7.3.1"];
    exts.push(extension("2.5.29.37", false, seq(...usages.map(oid))));
  }
  if (req.altNames?.length) {
    const general = req.altNames.map((n) => isIP(n) ? tlv(0x87, ipBytes(n)) : tlv(0x82, new TextEncoder().encode(n)));
    exts.push(extension("2.5.29.17", false, seq(...general)));
  }

  const tbs = seq(
    explicit(0, integer(Uint8Array.of(2))),
    integer(Uint8Array.from([0x01, ...randomBytes(15)])),
    ED25519,
    issuer ? issuer.subjectDer : subject,
    seq(time(notBefore), time(notAfter)),
    subject,
    spki,
    explicit(3, seq(...exts)),
  );
  const signature = sign(null, tbs, issuer?.key ?? privateKey);
  const der = seq(tbs, ED25519, bitString(new Uint8Array(signature)));
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return {
    certPem: toPem("CERTIFICATE", der),
    keyPem: pkcs8.replace(/(BEGIN|END) PRIVATE KEY/g, "$1 ED25519 PRIVATE KEY"),
    key: createPrivateKey(pkcs8),
    subjectDer: subject,
  };
}
