/** @module The one explicit list of tools; no import side effects. */
import { containersTool, processesTool } from "./containers.ts";
import type { ToolSpec } from "./define.ts";
import { contextsTool } from "./contexts.ts";
import { disksTool, mountsTool, statsTool } from "./diagnostics.ts";
import { etcdTool } from "./etcd.ts";
import { etcdMaintenanceTool } from "./etcd_maintenance.ts";
import { eventsTool } from "./events.ts";
import { etcdSnapshotTool, kubeconfigTool } from "./exports.ts";
import { listFilesTool, readFileTool } from "./files.ts";
import { healthTool } from "./health.ts";
import { imagePullTool, imagesTool } from "./images.ts";
import { dmesgTool, logsTool } from "./logs.ts";
import { netstatTool, networkTool } from "./network.ts";
import { applyConfigTool } from "./apply_config.ts";
import { bootstrapTool } from "./bootstrap.ts";
import { metaTool } from "./meta.ts";
import { patchConfigTool } from "./patch_config.ts";
import { resetTool, shutdownTool } from "./power.ts";
import { rebootTool, rollbackTool } from "./reboot.ts";
import { getTool, resourceDefinitionsTool } from "./resources.ts";
import { serviceActionTool } from "./service_action.ts";
import { servicesTool } from "./services.ts";
import { supportBundleTool } from "./support_bundle.ts";
import { nodeSummaryTool } from "./summary.ts";
import { talosconfigIssueTool } from "./talosconfig_issue.ts";
import { upgradeTool } from "./upgrade.ts";
import { upgradePlanTool } from "./upgrade_plan.ts";
import { upgradeClusterTool } from "./upgrade_cluster.ts";
import { upgradeK8sTool } from "./upgrade_kubernetes.ts";
import { validateTool } from "./validate.ts";
import { versionTool } from "./version.ts";

export const ALL_TOOLS: readonly ToolSpec[] = [
  // Orientation: which clusters, and what is wrong with them.
  contextsTool,
  nodeSummaryTool,
  versionTool,
  servicesTool,
  healthTool,
  resourceDefinitionsTool,
  getTool,
  // Workloads and logs.
  containersTool,
  processesTool,
  logsTool,
  dmesgTool,
  eventsTool,
  etcdTool,
  // Files on the node (TALOS_MCP_ALLOWED_PATHS applies).
  listFilesTool,
  readFileTool,
  // Diagnostics.
  statsTool,
  mountsTool,
  disksTool,
  networkTool,
  netstatTool,
  imagesTool,
  // Local files: credentials and snapshots land on disk, never in the agent's context.
  kubeconfigTool,
  etcdSnapshotTool,
  talosconfigIssueTool,
  supportBundleTool,
  // Planning without acting.
  upgradePlanTool,
  validateTool,
  // Mutating: hidden in read-only mode, guarded in lib/guards/pipeline.ts.
  serviceActionTool,
  rebootTool,
  upgradeTool,
  upgradeClusterTool,
  upgradeK8sTool,
  rollbackTool,
  patchConfigTool,
  imagePullTool,
  // Node lifecycle: new nodes, new clusters, power and wipes.
  applyConfigTool,
  bootstrapTool,
  shutdownTool,
  resetTool,
  metaTool,
  // etcd chores: defragment, alarms, leadership, membership.
  etcdMaintenanceTool,
];
