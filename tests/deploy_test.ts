/**
 * @module The Kubernetes manifests stay consistent with the server: the paths, probes
 * and variables they use exist, and the hardening docs/http.md describes is there.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { loadConfig } from "../lib/config.ts";
import { loadHttpOptions } from "../lib/http/options.ts";
import { catalog } from "../lib/guards/policy_source.ts";
import { parsePolicy } from "../lib/policy/file.ts";
import { candidatePaths } from "../lib/talos/talosconfig.ts";
import { checkDockerfile } from "../scripts/dockerfile_check.ts";
import { PLATFORMS } from "../scripts/platforms.ts";
import { SERVER_NAME } from "../scripts/server_json.ts";

const dir = join(import.meta.dir, "../deploy/kubernetes");
const load = (f: string) => parse(readFileSync(join(dir, f), "utf8"));

test("kustomization lists every manifest", () => {
  const k = load("kustomization.yaml");
  expect(k.resources.sort()).toEqual([
    "deployment.yaml",
    "namespace.yaml",
    "networkpolicy.yaml",
    "poddisruptionbudget.yaml",
    "policy-configmap.yaml",
    "service.yaml",
    "talos-serviceaccount.yaml",
  ]);
});

test("the Talos ServiceAccount is read-only and its Secret is what the pod mounts", () => {
  const sa = load("talos-serviceaccount.yaml");
  expect(sa).toMatchObject({
    apiVersion: "talos.dev/v1alpha1",
    kind: "ServiceAccount",
    spec: { roles: ["os:reader"] },
  });
  const pod = load("deployment.yaml").spec.template.spec;
  const vol = pod.volumes.find((v: any) => v.name === "talosconfig");
  expect(vol.secret.secretName).toBe(sa.metadata.name);
});

test("the Deployment: 2 replicas, hardened, probes, secrets read-only where the server looks", () => {
  const d = load("deployment.yaml");
  expect(d.spec.replicas).toBe(2);
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  expect(pod.securityContext.runAsNonRoot).toBe(true);
  expect(pod.automountServiceAccountToken).toBe(false);
  expect(c.securityContext).toMatchObject({
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
  });
  expect(c.livenessProbe.httpGet.path).toBe("/healthz");
  expect(c.readinessProbe.httpGet.path).toBe("/readyz");
  expect(c.resources.requests.memory).toBeDefined();
  for (const m of c.volumeMounts.filter((m: any) => m.name !== "tmp")) expect(m.readOnly).toBe(true);

  const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
  expect(env.TALOS_MCP_READ_ONLY).toBe("true");
  // The settings parse, and the in-cluster talosconfig path is one the server looks at.
  expect(loadConfig(env).readOnly).toBe(true);
  const tokenMount = c.volumeMounts.find((m: any) => m.name === "token").mountPath;
  expect(env.TALOS_MCP_AUTH_TOKEN_FILE).toStartWith(`${tokenMount}/`);
  const talosMount = c.volumeMounts.find((m: any) => m.name === "talosconfig").mountPath;
  expect(candidatePaths({})).toContain(`${talosMount}/config`);
  const [flag, addr] = c.args;
  expect(flag).toBe("--http");
  expect(() => loadHttpOptions(addr, { ...env, TALOS_MCP_AUTH_TOKEN_FILE: undefined })).toThrow(/refusing/);
  // Graceful shutdown fits in the grace period.
  const drainS = Number(env.TALOS_MCP_HTTP_DRAIN_MS) / 1000;
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(drainS + c.lifecycle.preStop.sleep.seconds);
  expect(c.ports[0].containerPort).toBe(Number(addr.split(":")[1]));
});

test("the policy ConfigMap is a valid policy, mounted (as a directory, so updates arrive) where TALOS_MCP_POLICY points", () => {
  const cm = load("policy-configmap.yaml");
  const policy = parsePolicy(cm.data["policy.yaml"], "policy.yaml", catalog());
  expect(policy.grants.map((g) => [g.name, g.profile])).toEqual([
    ["readers", "readonly"],
    ["on-call", "operator"],
    ["admins", "admin"],
  ]);
  const pod = load("deployment.yaml").spec.template.spec;
  const c = pod.containers[0];
  const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
  const mount = c.volumeMounts.find((m: any) => m.name === "policy");
  expect(mount.subPath).toBeUndefined();
  expect(env.TALOS_MCP_POLICY).toBe(`${mount.mountPath}/policy.yaml`);
  expect(pod.volumes.find((v: any) => v.name === "policy").configMap.name).toBe(cm.metadata.name);
  expect(loadConfig(env).policyFile).toBe(env.TALOS_MCP_POLICY);
  const opts = loadHttpOptions(c.args[1], {
    ...env,
    TALOS_MCP_AUTH_TOKEN_FILE: undefined,
    TALOS_MCP_AUTH_TOKEN: "x".repeat(32),
  });
  expect(opts.limits).toEqual({ ratePerSecond: 5, burst: 20, maxConcurrent: 4 });
});

test("the Service and NetworkPolicy select the pods and open only 8080 in", () => {
  const labels = load("deployment.yaml").spec.template.metadata.labels;
  expect(labels).toMatchObject(load("service.yaml").spec.selector);
  const np = load("networkpolicy.yaml");
  expect(labels).toMatchObject(np.spec.podSelector.matchLabels);
  expect(np.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual([8080]);
  expect(np.spec.egress.flatMap((r: any) => r.ports.map((p: any) => p.port)).sort()).toEqual([50000, 53, 53]);
});

describe("the Dockerfile (checked statically: no container engine here)", () => {
  const root = join(import.meta.dir, "..");
  const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
  const dockerignore = readFileSync(join(root, ".dockerignore"), "utf8");

  test("is a digest-pinned distroless base, the release binary copied read-only, non-root, labelled", () => {
    expect(checkDockerfile(dockerfile, dockerignore, SERVER_NAME)).toEqual([]);
    // Both image architectures are released binaries.
    const linux = PLATFORMS.filter((p) => p.os === "linux").map((p) => p.goarch);
    expect(linux).toEqual(["amd64", "arm64"]);
  });

  const cases: Array<[string, (d: string) => string, string]> = [
    ["a tag instead of a digest", (d) => d.replace(/@sha256:[0-9a-f]{64}/, ""), "pinned by digest"],
    ["a build stage", (d) => `FROM node:22 AS build\n${d}`, "2 FROM lines"],
    ["a RUN", (d) => d.replace("USER 65532", "RUN chmod 777 /talos-mcp\nUSER 65532"), "RUN: nothing may run"],
    ["root", (d) => d.replace("USER 65532:65532", "USER 0"), "USER 0: run as a numeric non-root user"],
    ["no USER", (d) => d.replace("USER 65532:65532\n", ""), "USER (none)"],
    ["a writable binary", (d) => d.replace("--chmod=0555", "--chmod=0755"), "mode 0555"],
    ["copying the sources", (d) => d.replace("ENTRYPOINT", "COPY . /src\nENTRYPOINT"), "2 COPY lines"],
    ["no registry label", (d) => d.replace("io.modelcontextprotocol.server.name", "x"), "the registry checks it"],
  ];
  for (const [name, edit, message] of cases) {
    test(`fails on ${name}`, () => {
      expect(checkDockerfile(edit(dockerfile), dockerignore, SERVER_NAME).join("\n")).toContain(message);
    });
  }

  test("fails on a build context that lets more in", () => {
    expect(checkDockerfile(dockerfile, dockerignore + "!lib/\n", SERVER_NAME).join("\n")).toContain(".dockerignore");
  });
});
