/**
 * @module The machine-config checks a schema cannot make and that fail most
 * often when Talos loads a config: the cluster endpoint, the install disk in
 * metal mode, addresses and prefixes, PEM material, the hostname set twice,
 * the machine type, and deprecated fields. Messages name paths, never values.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { cidrProblem, type PathSeg } from "./config_schema_check.ts";
import { fixKeyLabel } from "./talosconfig.ts";

export type ValidateMode = "metal" | "cloud" | "container";

/** A decoded document whose kind is known ("v1alpha1" for the main document). */
export interface Doc {
  index: number;
  kind: string;
  value: Record<string, unknown>;
}

export interface Finding {
  doc: Doc;
  path: PathSeg[];
  message: string;
  severity: "error" | "warning";
}

type Obj = Record<string, unknown>;

function at(root: unknown, path: PathSeg[]): unknown {
  let v = root;
  for (const seg of path) {
    if (!v || typeof v !== "object") return undefined;
    v = (v as Record<PathSeg, unknown>)[seg];
  }
  return v;
}

const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const set = (v: unknown) => v !== undefined && v !== null && v !== "";

/** Runs every semantic check over the documents of one config. */
export function semanticChecks(docs: Doc[], mode: ValidateMode): Finding[] {
  const out: Finding[] = [];
  const error = (doc: Doc, path: PathSeg[], message: string) => out.push({ doc, path, message, severity: "error" });
  const warn = (doc: Doc, path: PathSeg[], message: string) => out.push({ doc, path, message, severity: "warning" });
  const v1 = docs.find((d) => d.kind === "v1alpha1");
  const ofKind = (kind: string) => docs.filter((d) => d.kind === kind);

  // The Kubernetes API endpoint: v1alpha1's cluster.controlPlane.endpoint, or a KubeClusterConfig document.
  const kubeCluster = ofKind("KubeClusterConfig");
  for (const d of kubeCluster) endpoint(d, ["endpoint"], error);
  if (v1) {
    const path = ["cluster", "controlPlane", "endpoint"];
    if (set(at(v1.value, path))) endpoint(v1, path, error);
    else if (!kubeCluster.length) {
      error(
        v1,
        path,
        "is required: the Kubernetes API endpoint, e.g. https://10.5.0.2:6443 or https://api.example:6443",
      );
    }
  }

  if (v1) machineType(v1, error, warn);

  // Metal images install Talos to a disk named in the config; cloud and container images come installed.
  if (v1 && mode === "metal") {
    const install = at(v1.value, ["machine", "install"]);
    const unattended = ofKind("UnattendedInstall").some((d) => set(at(d.value, ["provisioning", "diskSelector"])));
    if (!unattended && !(isObj(install) && (set(install.disk) || set(install.diskSelector)))) {
      error(
        v1,
        ["machine", "install"],
        "mode metal needs machine.install.disk (e.g. /dev/sda) or machine.install.diskSelector; " +
          "use mode cloud or container if the image is already installed",
      );
    }
  }

  if (v1) {
    addresses(v1, error);
    pemMaterial(v1, error);
    deprecated(v1, docs, error, warn);
    const hostname = ofKind("HostnameConfig")[0];
    if (hostname && set(at(v1.value, ["machine", "network", "hostname"]))) {
      error(
        v1,
        ["machine", "network", "hostname"],
        `static hostname is already set in v1alpha1 config: the HostnameConfig document (document ` +
          `${hostname.index}) sets it too; remove one of them (HostnameConfig is the current way)`,
      );
    }
  }
  return out;
}

type Report = (doc: Doc, path: PathSeg[], message: string) => void;

/** The API endpoint Talos writes into kubeconfigs and certificates: https with an explicit port. */
function endpoint(doc: Doc, path: PathSeg[], error: Report): void {
  const value = at(doc.value, path);
  if (typeof value !== "string") return; // the schema reports the type
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return error(doc, path, "is not a URL; write it as https://<host>:<port>, e.g. https://10.5.0.2:6443");
  }
  if (url.protocol !== "https:") {
    return error(doc, path, "must use https (the Kubernetes API serves TLS), e.g. https://10.5.0.2:6443");
  }
  // URL drops a default port (":443"), so the port is read from the text itself.
  if (!/^https:\/\/(\[[^\]]*\]|[^/:?#@]+):\d{1,5}(\/|$)/i.test(value)) {
    error(doc, path, "has no port; add the API server port, e.g. https://10.5.0.2:6443");
  }
}

function machineType(v1: Doc, error: Report, warn: Report): void {
  const path = ["machine", "type"];
  const type = at(v1.value, path);
  if (type === undefined || type === null || type === "") {
    if (isObj(v1.value.machine)) error(v1, path, "is required: controlplane or worker");
  } else if (type === "init") {
    warn(v1, path, "init is deprecated: use controlplane on every control-plane node and bootstrap etcd once");
  } else if (type === "join") warn(v1, path, "join is deprecated: use worker");
  else if (type !== "controlplane" && type !== "worker") error(v1, path, "must be controlplane or worker");
}

function addresses(v1: Doc, error: Report): void {
  const cidrs = (path: PathSeg[], opts: { exclude?: boolean; bareIp?: boolean } = {}) =>
    list(at(v1.value, path)).forEach((item, i) => {
      if (typeof item !== "string") return;
      // etcd and kubelet subnets may exclude a prefix with a leading "!".
      const s = opts.exclude && item.startsWith("!") ? item.slice(1) : item;
      if (opts.bareIp && !s.includes("/") && isIP(s)) return;
      const problem = cidrProblem(s);
      if (problem) error(v1, [...path, i], problem);
    });
  const ip = (path: PathSeg[]) => {
    const value = at(v1.value, path);
    if (typeof value === "string" && value !== "" && !isIP(value)) error(v1, path, "is not a valid IP address");
  };
  cidrs(["cluster", "network", "podSubnets"]);
  cidrs(["cluster", "network", "serviceSubnets"]);
  cidrs(["cluster", "etcd", "advertisedSubnets"], { exclude: true });
  cidrs(["cluster", "etcd", "listenSubnets"], { exclude: true });
  cidrs(["machine", "kubelet", "nodeIP", "validSubnets"], { exclude: true });
  list(at(v1.value, ["machine", "network", "nameservers"])).forEach((_, i) =>
    ip(["machine", "network", "nameservers", i])
  );
  list(at(v1.value, ["machine", "network", "extraHostEntries"])).forEach((_, i) =>
    ip(["machine", "network", "extraHostEntries", i, "ip"])
  );
  const link = (base: PathSeg[]) => {
    cidrs([...base, "addresses"], { bareIp: true });
    ip([...base, "vip", "ip"]);
    list(at(v1.value, [...base, "routes"])).forEach((route, r) => {
      if (!isObj(route)) return;
      if (typeof route.network === "string" && route.network !== "") {
        const problem = cidrProblem(route.network);
        if (problem) error(v1, [...base, "routes", r, "network"], problem);
      }
      ip([...base, "routes", r, "gateway"]);
      ip([...base, "routes", r, "source"]);
    });
  };
  list(at(v1.value, ["machine", "network", "interfaces"])).forEach((_, i) => {
    const base = ["machine", "network", "interfaces", i];
    link(base);
    list(at(v1.value, [...base, "vlans"])).forEach((_, j) => link([...base, "vlans", j]));
  });
}

/** Talos stores PEM blocks base64-encoded in crt/key fields. */
function decodePem(value: string): { pem?: string; problem?: string } {
  if (value.trimStart().startsWith("-----BEGIN")) {
    return { problem: "holds a PEM block as text; Talos expects it base64-encoded (e.g. base64 -w0 ca.crt)" };
  }
  if (!/^[A-Za-z0-9+/=\s]+$/.test(value)) {
    return { problem: "is not base64 (Talos expects a base64-encoded PEM block)" };
  }
  const pem = Buffer.from(value, "base64").toString("utf8");
  if (!pem.includes("-----BEGIN")) return { problem: "does not decode to a PEM block (-----BEGIN ...)" };
  return { pem };
}

function pemMaterial(v1: Doc, error: Report): void {
  const pair = (base: PathSeg[], fields: Array<"crt" | "key">) => {
    let cert: X509Certificate | undefined;
    let key: KeyObject | undefined;
    for (const field of fields) {
      const path = [...base, field];
      const value = at(v1.value, path);
      if (typeof value !== "string" || value === "") continue;
      const { pem, problem } = decodePem(value);
      if (problem) {
        error(v1, path, problem);
        continue;
      }
      try {
        if (field === "crt") cert = new X509Certificate(pem!);
        else key = createPrivateKey(fixKeyLabel(pem!));
      } catch {
        error(
          v1,
          path,
          field === "crt"
            ? "does not hold a valid PEM certificate (base64 of -----BEGIN CERTIFICATE-----...)"
            : "does not hold a valid PEM private key (base64 of -----BEGIN ... PRIVATE KEY-----...)",
        );
      }
    }
    if (cert && key && !cert.checkPrivateKey(key)) {
      error(v1, [...base, "key"], `is not the private key of ${[...base, "crt"].join(".")}; use the matching pair`);
    }
  };
  pair(["machine", "ca"], ["crt", "key"]);
  pair(["cluster", "ca"], ["crt", "key"]);
  pair(["cluster", "aggregatorCA"], ["crt", "key"]);
  pair(["cluster", "etcd", "ca"], ["crt", "key"]);
  pair(["cluster", "serviceAccount"], ["key"]);
  for (const base of [["machine", "acceptedCAs"], ["cluster", "acceptedCAs"]]) {
    list(at(v1.value, base)).forEach((_, i) => pair([...base, i], ["crt"]));
  }
}

/** v1alpha1 fields that Talos still reads but that its schema calls deprecated, and what replaces them. */
function deprecated(v1: Doc, docs: Doc[], error: Report, warn: Report): void {
  const moved: Array<[PathSeg[], string]> = [
    [["cluster", "allowSchedulingOnMasters"], "use cluster.allowSchedulingOnControlPlanes"],
    [["machine", "sysctls"], "use a SysctlConfig document (its values take precedence)"],
    [["machine", "sysfs"], "use a SysfsConfig document (its values take precedence)"],
  ];
  for (const [path, instead] of moved) if (set(at(v1.value, path))) warn(v1, path, `is deprecated: ${instead}`);
  const overrides = ["machine", "baseRuntimeSpecOverrides"];
  if (set(at(v1.value, overrides))) {
    if (docs.some((d) => d.kind === "CRIBaseRuntimeSpecConfig")) {
      error(v1, overrides, "cannot be used with a CRIBaseRuntimeSpecConfig document: remove one of them");
    } else warn(v1, overrides, "is deprecated: use a CRIBaseRuntimeSpecConfig document");
  }
}
