/**
 * @module Which nodes are control planes: each node's MachineType resource
 * (config namespace, id machine-type: "controlplane" or "worker"), learned once
 * per session and node, so calls that only make sense on control planes
 * (etcd) need not ask the workers.
 */
import { getResource } from "./cosi.ts";
import { fanOut } from "./fan_out.ts";
import type { TalosSession } from "./session.ts";

const TIMEOUT_MS = 2_000;
const learned = new WeakMap<TalosSession, Map<string, string>>();

/**
 * The control planes among `nodes`, in their order; undefined when no node's type could be told
 * (the caller then falls back to all of them).
 */
export async function controlPlanesOf(
  session: TalosSession,
  nodes: readonly string[],
  signal: AbortSignal,
  concurrency: number,
): Promise<string[] | undefined> {
  const known = await machineTypesOf(session, nodes, signal, concurrency);
  if (!nodes.some((n) => known.has(n))) return undefined;
  return nodes.filter((n) => known.get(n) === "controlplane");
}

/**
 * Each node's machine type ("controlplane" or "worker") where it could be learned; a node whose type
 * could not be read is absent, so callers that must not guess (policy rules by role) can refuse it.
 */
export async function machineTypesOf(
  session: TalosSession,
  nodes: readonly string[],
  signal: AbortSignal,
  concurrency: number,
): Promise<ReadonlyMap<string, string>> {
  let types = learned.get(session);
  if (!types) learned.set(session, types = new Map());
  const known = types;
  const unknown = nodes.filter((n) => !known.has(n));
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]);
  for (const o of await fanOut(unknown, concurrency, (node) => machineType(session, node, timeout))) {
    if (o.value) known.set(o.node, o.value);
  }
  return known;
}

async function machineType(session: TalosSession, node: string, signal: AbortSignal): Promise<string | undefined> {
  const r = await getResource(session, node, "config", "MachineTypes.config.talos.dev", "machine-type", signal);
  const type = String(r.spec ?? "").trim();
  // "init" (deprecated, still valid) is the control plane that bootstrapped the cluster.
  if (type === "init") return "controlplane";
  return type === "controlplane" || type === "worker" ? type : undefined;
}
