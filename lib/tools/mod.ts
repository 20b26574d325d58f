/** @module The one explicit list of tools; no import side effects. */
import { containersTool, processesTool } from "./containers.ts";
import type { ToolSpec } from "./define.ts";
import { etcdTool } from "./etcd.ts";
import { eventsTool } from "./events.ts";
import { listFilesTool, readFileTool } from "./files.ts";
import { healthTool } from "./health.ts";
import { dmesgTool, logsTool } from "./logs.ts";
import { getTool, resourceDefinitionsTool } from "./resources.ts";
import { servicesTool } from "./services.ts";
import { versionTool } from "./version.ts";

export const ALL_TOOLS: readonly ToolSpec[] = [
  versionTool,
  servicesTool,
  resourceDefinitionsTool,
  getTool,
  containersTool,
  processesTool,
  healthTool,
  logsTool,
  dmesgTool,
  eventsTool,
  etcdTool,
  listFilesTool,
  readFileTool,
];
