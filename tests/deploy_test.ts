/**
 * @module The Kubernetes manifests stay consistent with the server: the paths, probes
 * and variables they use exist, and the hardening docs/http.md describes is there.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { loadConfig } from "../lib/config.ts";
import { loadHttpOptions } from "../lib/http/options.ts";
import { candidatePaths } from "../lib/talos/talosconfig.ts";

const dir = join(import.meta.dir, "../deploy/kubernetes");
const load = (f: string) => parse(readFileSync(join(dir, f), "utf8"));

test("kustomization lists every manifest", () => {
  const k = load("kustomization.yaml");
  expect(k.resources.sort()).toEqual([
    "deployment.yaml",
    "namespace.yaml",
    "networkpolicy.yaml",
    "poddisruptionbudget.yaml",
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

test("the Service and NetworkPolicy select the pods and open only 8080 in", () => {
  const labels = load("deployment.yaml").spec.template.metadata.labels;
  expect(labels).toMatchObject(load("service.yaml").spec.selector);
  const np = load("networkpolicy.yaml");
  expect(labels).toMatchObject(np.spec.podSelector.matchLabels);
  expect(np.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual([8080]);
  expect(np.spec.egress.flatMap((r: any) => r.ports.map((p: any) => p.port)).sort()).toEqual([50000, 53, 53]);
});
