/**
 * @module Broken machine configs for talos_validate, one fault each, made from
 * a valid config (the simulator's own): what each must report, exactly. Used
 * by the validator's unit test and by the end-to-end test through the binary.
 */
import { parseAllDocuments, stringify } from "yaml";

type Docs = Record<string, any>[];

export interface Expected {
  document: number;
  kind: string;
  path: string;
  /** A part of the message that says what is wrong. */
  says: string;
  /** The line the issue must point at, when the case pins it. */
  line?: number;
}

export interface BrokenCase {
  name: string;
  /** Builds the broken config text from a valid one. */
  make(valid: string): string;
  mode?: "metal" | "cloud" | "container";
  strict?: boolean;
  errors: Expected[];
  warnings: Expected[];
}

export function docsOf(text: string): Docs {
  return parseAllDocuments(text).map((d) => d.toJS());
}

export function textOf(docs: Docs): string {
  return docs.map((d) => stringify(d)).join("---\n");
}

const edit = (change: (docs: Docs) => void) => (valid: string) => {
  const docs = docsOf(valid);
  change(docs);
  return textOf(docs);
};

/** A token-looking value that must never come back in a result. */
export const PLANTED_SECRET = "zz9plz.secretvaluexx42";

const v1 = (path: string, says: string): Expected => ({ document: 0, kind: "v1alpha1", path, says });

export const BROKEN_CASES: BrokenCase[] = [
  {
    name: "bad YAML",
    make: (valid) => `${valid}---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: [unclosed\n`,
    errors: [{ document: 2, kind: "", path: "", says: "YAML syntax" }],
    warnings: [],
  },
  {
    name: "unknown kind",
    make: (valid) => `${valid}---\napiVersion: v1alpha1\nkind: HostnameConfg\nhostname: x\n`,
    errors: [{ document: 2, kind: "HostnameConfg", path: "kind", says: "did you mean HostnameConfig?" }],
    warnings: [],
  },
  {
    name: "wrong type",
    make: edit((d) => d[0].debug = "yes"),
    errors: [v1("debug", "must be a boolean (true or false), got a string")],
    warnings: [],
  },
  {
    name: "unknown field (a typo, with a secret value)",
    make: edit((d) => d[0].machine.tokne = PLANTED_SECRET),
    errors: [v1("machine.tokne", "is not a known field; did you mean token?")],
    warnings: [],
  },
  {
    name: "http endpoint",
    make: edit((d) => d[0].cluster.controlPlane.endpoint = "http://10.5.0.2:6443"),
    errors: [v1("cluster.controlPlane.endpoint", "must use https")],
    warnings: [],
  },
  {
    name: "endpoint without port",
    make: edit((d) => d[0].cluster.controlPlane.endpoint = "https://10.5.0.2"),
    errors: [v1("cluster.controlPlane.endpoint", "has no port")],
    warnings: [],
  },
  {
    name: "metal without install disk",
    make: edit((d) => delete d[0].machine.install.disk),
    errors: [v1("machine.install", "mode metal needs machine.install.disk")],
    warnings: [],
  },
  {
    name: "bad CIDR",
    make: edit((d) => d[0].cluster.network.podSubnets = ["10.244.0.0/16", "10.244.0.0/33"]),
    errors: [v1("cluster.network.podSubnets[1]", "prefix length must be 0..32")],
    warnings: [],
  },
  {
    name: "bad PEM certificate",
    make: edit((d) =>
      d[0].machine.ca.crt = Buffer.from("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        .toString("base64")
    ),
    errors: [v1("machine.ca.crt", "does not hold a valid PEM certificate")],
    warnings: [],
  },
  {
    name: "PEM key given as text, not base64",
    make: edit((d) => d[0].machine.ca.key = Buffer.from(d[0].machine.ca.key, "base64").toString("utf8")),
    errors: [v1("machine.ca.key", "holds a PEM block as text; Talos expects it base64-encoded")],
    warnings: [],
  },
  {
    name: "key of another CA",
    make: edit((d) => d[0].cluster.ca.key = d[0].machine.ca.key),
    errors: [v1("cluster.ca.key", "is not the private key of cluster.ca.crt")],
    warnings: [],
  },
  {
    name: "duplicate document",
    make: edit((d) => d.push({ ...d[1] })),
    errors: [{ document: 2, kind: "HostnameConfig", path: "", says: "duplicate document: HostnameConfig" }],
    warnings: [],
  },
  {
    name: "hostname set twice",
    make: edit((d) => d[0].machine.network = { hostname: "other" }),
    errors: [v1("machine.network.hostname", "static hostname is already set in v1alpha1 config")],
    warnings: [],
  },
  {
    name: "unknown machine type",
    make: edit((d) => d[0].machine.type = "master"),
    errors: [v1("machine.type", "must be controlplane or worker")],
    warnings: [],
  },
  {
    name: "deprecated field",
    make: edit((d) => d[0].cluster.allowSchedulingOnMasters = true),
    errors: [],
    warnings: [v1("cluster.allowSchedulingOnMasters", "is deprecated: use cluster.allowSchedulingOnControlPlanes")],
  },
  {
    name: "deprecated field, strict",
    make: edit((d) => d[0].cluster.allowSchedulingOnMasters = true),
    strict: true,
    errors: [v1("cluster.allowSchedulingOnMasters", "is deprecated")],
    warnings: [],
  },
  {
    name: "bad prefix in a multi-document kind (matches the schema's pattern, is no CIDR)",
    make: edit((d) =>
      d.push({
        apiVersion: "v1alpha1",
        kind: "KubeNetworkConfig",
        podSubnets: ["10.244.0.0/16"],
        serviceSubnets: ["999.96.0.0/12"],
      })
    ),
    errors: [{
      document: 2,
      kind: "KubeNetworkConfig",
      path: "serviceSubnets[0]",
      says: "the address part is not a valid IP address",
    }],
    warnings: [],
  },
];

/** The same config without an install disk is fine where the image comes installed. */
export const MODE_CASES = ["cloud", "container"] as const;
