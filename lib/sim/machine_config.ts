/**
 * @module The simulated cluster's machine configs: generated like `talosctl gen config` output with
 * (fake) secrets in the usual places, and their encoding in the MachineConfig resource.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { stringify } from "yaml";
import type { Role, SimNode, SimResource } from "./model.ts";
import { issue } from "./x509.ts";

/** The Kubernetes version a new simulated cluster runs (what `talosctl gen config` of Talos 1.12/1.13 picks). */
const K8S_VERSION = "v1.34.1";

const b64 = (s: string) => Buffer.from(s).toString("base64");

function fakeKeyPem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString()
    .replace(/(BEGIN|END) PRIVATE KEY/g, "$1 ED25519 PRIVATE KEY");
}

/** A machine config shaped like `talosctl gen config` output, with (fake) secrets in the usual places. */
export function machineConfig(node: { hostname: string; role: Role; ip: string }, cluster: ClusterSecrets): string {
  // Workers carry no CA keys and no etcd section: Talos' validator rejects a worker config that has them.
  const cp = node.role !== "worker";
  const v1alpha1 = {
    version: "v1alpha1",
    debug: false,
    persist: true,
    machine: {
      type: node.role,
      token: cluster.machineToken,
      ca: cp ? { crt: cluster.osCaCrt, key: cluster.osCaKey } : { crt: cluster.osCaCrt },
      certSANs: [],
      kubelet: { image: `ghcr.io/siderolabs/kubelet:${K8S_VERSION}`, defaultRuntimeSeccompProfileEnabled: true },
      install: { disk: "/dev/sda", image: "ghcr.io/siderolabs/installer:v1.13.9", wipe: false },
      features: { rbac: true, apidCheckExtKeyUsage: true },
    },
    cluster: {
      id: cluster.id,
      secret: cluster.secret,
      controlPlane: { endpoint: "https://10.5.0.2:6443" },
      clusterName: cluster.name,
      network: { dnsDomain: "cluster.local", podSubnets: ["10.244.0.0/16"], serviceSubnets: ["10.96.0.0/12"] },
      token: cluster.bootstrapToken,
      ...(cp
        ? {
          secretboxEncryptionSecret: cluster.secretbox,
          ca: { crt: cluster.k8sCaCrt, key: cluster.k8sCaKey },
          serviceAccount: { key: cluster.saKey },
          etcd: { ca: { crt: cluster.etcdCaCrt, key: cluster.etcdCaKey } },
          apiServer: { image: `registry.k8s.io/kube-apiserver:${K8S_VERSION}` },
          controllerManager: { image: `registry.k8s.io/kube-controller-manager:${K8S_VERSION}` },
          scheduler: { image: `registry.k8s.io/kube-scheduler:${K8S_VERSION}` },
          proxy: { image: `registry.k8s.io/kube-proxy:${K8S_VERSION}` },
        }
        : { ca: { crt: cluster.k8sCaCrt } }),
      discovery: { enabled: true },
    },
  };
  // The hostname lives in the HostnameConfig document only, as `talosctl gen config` writes it
  // since 1.12: Talos' validator rejects a config that also sets machine.network.hostname.
  const hostnameDoc = { apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: node.hostname };
  return [stringify(v1alpha1), stringify(hostnameDoc)].join("---\n");
}

export interface ClusterSecrets {
  name: string;
  id: string;
  secret: string;
  machineToken: string;
  bootstrapToken: string;
  secretbox: string;
  osCaCrt: string;
  osCaKey: string;
  k8sCaCrt: string;
  k8sCaKey: string;
  saKey: string;
  etcdCaCrt: string;
  etcdCaKey: string;
}

export function clusterSecrets(name: string): ClusterSecrets {
  const token = () => `${randomBytes(3).toString("hex")}.${randomBytes(8).toString("hex")}`;
  // Real self-signed CAs with their keys, so the configs pass the checks Talos (and talos_validate) makes.
  const ca = (commonName: string) => {
    const c = issue({ commonName, organizations: [commonName], isCa: true });
    return { crt: b64(c.certPem), key: b64(c.keyPem) };
  };
  const [os, k8s, etcd] = [ca("talos"), ca("kubernetes"), ca("etcd")];
  return {
    name,
    id: randomBytes(32).toString("base64"),
    secret: randomBytes(32).toString("base64"),
    machineToken: token(),
    bootstrapToken: token(),
    secretbox: randomBytes(32).toString("base64"),
    osCaCrt: os.crt,
    osCaKey: os.key,
    k8sCaCrt: k8s.crt,
    k8sCaKey: k8s.key,
    saKey: b64(fakeKeyPem()),
    etcdCaCrt: etcd.crt,
    etcdCaKey: etcd.key,
  };
}

/** MachineConfig on the wire: a string scalar with an annotation since 1.12, raw text before. */
export function machineConfigEncoding(node: SimNode): Partial<SimResource> {
  const minor = Number(/^v?1\.(\d+)/.exec(node.version)?.[1] ?? 13);
  const text = node.machineConfig;
  const bytes = Buffer.from(text);
  // MachineConfigSpec { bytes yaml_marshalled = 1; } encoded by hand: tag 0x0a, varint length, bytes.
  const lenBytes: number[] = [];
  for (let n = bytes.length;; n >>>= 7) {
    lenBytes.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    if (n < 0x80) break;
  }
  const protoSpec = Buffer.concat([Buffer.from([0x0a, ...lenBytes]), bytes]);
  return minor >= 12
    ? { yamlSpec: stringify(text), annotations: { "talos.dev/yaml-spec": "1" }, protoSpec }
    : { yamlSpec: text, protoSpec };
}
