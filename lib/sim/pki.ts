/**
 * @module The simulated cluster's PKI and talosconfig: an Ed25519 OS CA, an
 * apid server certificate per endpoint, and client certificates per role,
 * written into a talosconfig exactly as talosctl writes one.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { issue, type Issued } from "./x509.ts";

export interface SimPki {
  ca: Issued;
  server: Issued;
  clients: Record<string, Issued>;
}

/** Client certificates the simulator hands out, by talosconfig context suffix. */
export const CLIENT_ROLES: Record<string, string[]> = {
  "": ["os:admin"],
  "-operator": ["os:operator"],
  "-reader": ["os:reader"],
};

/** `clientNotAfter`: when the client certificates expire (default: a year, as talosctl gen config issues them). */
export function createPki(serverNames: string[], clientNotAfter?: Date): SimPki {
  const ca = issue({ commonName: "talos", organizations: ["talos"], isCa: true });
  const server = issue({ commonName: "apid", altNames: serverNames, usage: "server" }, ca);
  const clients = Object.fromEntries(
    Object.entries(CLIENT_ROLES).map(([suffix, roles]) => [
      suffix,
      issue({
        commonName: roles[0].replace("os:", ""),
        organizations: roles,
        usage: "client",
        notAfter: clientNotAfter,
      }, ca),
    ]),
  );
  return { ca, server, clients };
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

export interface ContextSpec {
  name: string;
  endpoints: string[];
  nodes: string[];
  ca: Issued;
  client: Issued;
}

/** Writes a talosconfig (mode 0600, as Talos does) and returns its path. */
export function writeTalosconfig(dir: string, current: string, contexts: ContextSpec[]): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const doc = {
    context: current,
    contexts: Object.fromEntries(contexts.map((c) => [c.name, {
      endpoints: c.endpoints,
      nodes: c.nodes,
      ca: b64(c.ca.certPem),
      crt: b64(c.client.certPem),
      key: b64(c.client.keyPem),
    }])),
  };
  const path = join(dir, "talosconfig");
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}
