/** @module The one explicit list of tools; no import side effects. */
import type { ToolSpec } from "./define.ts";
import { contextsTool } from "./contexts.ts";
import { disksTool, mountsTool, statsTool } from "./diagnostics.ts";
import { etcdSnapshotTool, kubeconfigTool } from "./exports.ts";
import { imagePullTool, imagesTool } from "./images.ts";
import { netstatTool, networkTool } from "./network.ts";
import { getTool, resourceDefinitionsTool } from "./resources.ts";
import { servicesTool } from "./services.ts";
import { nodeSummaryTool } from "./summary.ts";
import { upgradePlanTool } from "./upgrade_plan.ts";
import { versionTool } from "./version.ts";

export const ALL_TOOLS: readonly ToolSpec[] = [
  versionTool,
  servicesTool,
  resourceDefinitionsTool,
  getTool,
  contextsTool,
  nodeSummaryTool,
  statsTool,
  mountsTool,
  disksTool,
  networkTool,
  netstatTool,
  imagesTool,
  imagePullTool,
  kubeconfigTool,
  etcdSnapshotTool,
  upgradePlanTool,
];
