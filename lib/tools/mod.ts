/** @module The one explicit list of tools; no import side effects. */
import type { ToolSpec } from "./define.ts";
import { getTool, resourceDefinitionsTool } from "./resources.ts";
import { patchConfigTool } from "./patch_config.ts";
import { rebootTool, rollbackTool } from "./reboot.ts";
import { serviceActionTool } from "./service_action.ts";
import { servicesTool } from "./services.ts";
import { upgradeTool } from "./upgrade.ts";
import { versionTool } from "./version.ts";

export const ALL_TOOLS: readonly ToolSpec[] = [
  versionTool,
  servicesTool,
  resourceDefinitionsTool,
  getTool,
  // Mutating: hidden in read-only mode, guarded in lib/server.ts.
  serviceActionTool,
  rebootTool,
  upgradeTool,
  rollbackTool,
  patchConfigTool,
];
