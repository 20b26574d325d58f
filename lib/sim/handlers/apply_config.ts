/**
 * @module Simulated ApplyConfiguration: validation, the modes and how
 * they differ by version (AUTO, NO_REBOOT, STAGED, TRY; REBOOT rejected on
 * 1.14), dry runs with a unified diff in mode_details, and persistence so a
 * later COSI Get returns the new config.
 */
import { createTwoFilesPatch } from "diff";
import { parseAllDocuments, stringify } from "yaml";
import { restartChangedPods } from "../kubernetes.ts";
import type { Role, SimCluster, SimNode } from "../model.ts";
import { simVersion } from "../versions.ts";
import { Code, type HandlerTable, one, SimError } from "./types.ts";

const M = "/machine.MachineService/";

/** The config as Talos renders it for diffs: documents re-serialised, comments dropped. */
function render(docs: unknown[]): string {
  return docs.map((d) => stringify(d)).join("---\n");
}

function parse(text: string): unknown[] {
  const docs = parseAllDocuments(text);
  for (const d of docs) {
    if (d.errors.length) throw new SimError(Code.INVALID_ARGUMENT, `failed to parse config: ${d.errors[0].message}`);
  }
  return docs.map((d) => d.toJS()).filter((d) => d !== null);
}

const isV1alpha1 = (d: unknown) =>
  !!d && typeof d === "object" && (d as Record<string, unknown>).version === "v1alpha1" && !("kind" in d);

/** Changes the simulator treats as needing a reboot: the install section. */
function needsReboot(before: unknown[], after: unknown[]): boolean {
  const install = (docs: unknown[]) =>
    JSON.stringify((docs.find(isV1alpha1) as { machine?: { install?: unknown } })?.machine?.install ?? null);
  return install(before) !== install(after);
}

const DETAILS: Record<string, string> = {
  REBOOT: "Applied configuration with a reboot",
  NO_REBOOT: "Applied configuration without a reboot",
  STAGED: "Staged configuration to be applied after the next reboot",
  TRY: "Applied configuration in a try mode, it will be rolled back in 1m0s",
};

/**
 * Maintenance mode: there is no config to diff against; applying one makes the node install, reboot
 * and join the cluster with the config's machine type and hostname.
 */
function maintenanceApply(cluster: SimCluster, node: SimNode, text: string, docs: unknown[], dryRun: boolean) {
  if (dryRun) {
    return one({
      mode: "REBOOT",
      mode_details: "Dry run summary:\nNode is running in maintenance mode and does not have a config yet.",
      warnings: [],
    });
  }
  const v1 = docs.find(isV1alpha1) as { machine?: { type?: string } };
  const role: Role = v1.machine?.type === "controlplane" ? "controlplane" : "worker";
  const hostname = (docs.find((d) => (d as { kind?: string })?.kind === "HostnameConfig") as { hostname?: string })
    ?.hostname;
  cluster.join(node, text, role, hostname);
  return one({
    mode: "REBOOT",
    mode_details: "Applied configuration in maintenance mode: the node installs Talos and reboots",
    warnings: [],
  });
}

export const applyConfigHandlers: HandlerTable = {
  unary: {
    [`${M}ApplyConfiguration`]: ({ node, cluster }, req) => {
      const text = Buffer.from(req.data ?? []).toString("utf8");
      const after = parse(text);
      if (!after.some(isV1alpha1)) {
        throw new SimError(
          Code.INVALID_ARGUMENT,
          "the config must contain the v1alpha1 document (machine and cluster)",
        );
      }
      if (node.maintenance) return maintenanceApply(cluster, node, text, after, !!req.dry_run);
      const before = parse(node.machineConfig);
      const minor = simVersion(node.version)?.minor ?? 13;
      const mode: string = req.mode ?? "REBOOT";
      if (mode === "REBOOT" && minor >= 14) {
        throw new SimError(
          Code.UNIMPLEMENTED,
          "apply configuration mode REBOOT is not supported, use AUTO or NO_REBOOT",
        );
      }
      const reboot = minor < 14 && needsReboot(before, after);
      if ((mode === "NO_REBOOT" || mode === "TRY") && reboot) {
        throw new SimError(
          Code.INVALID_ARGUMENT,
          "apply configuration without reboot is not supported: machine.install changed",
        );
      }
      const resolved = mode === "AUTO" ? (reboot ? "REBOOT" : "NO_REBOOT") : mode;
      if (req.dry_run) {
        const a = render(before);
        const b = render(after);
        const diff = a === b ? "No changes." : createTwoFilesPatch("a", "b", a, b, "", "", { context: 3 })
          .split("\n").filter((l) => !l.startsWith("====")).join("\n").trim();
        return one({
          mode: resolved,
          mode_details: `Dry run summary:\n${DETAILS[resolved]} (skipped in dry-run).\nConfig diff:\n\n${diff}`,
          warnings: [],
        });
      }
      if (resolved === "STAGED") node.stagedConfig = text;
      else {
        restartChangedPods(node, node.machineConfig, text, cluster.podRestartReads);
        node.machineConfig = text;
        cluster.changed(node); // COSI watchers of the config-derived resources (KubeletSpec, StaticPodStatus)
      }
      if (resolved === "REBOOT") cluster.reboot(node);
      return one({ mode: resolved, mode_details: DETAILS[resolved], warnings: [] });
    },
  },
  stream: {},
};
