/**
 * @module Role-aware tools: which Talos roles a tool needs (from the RPCs it
 * declares and the RBAC table in lib/talos/rbac.ts), whether a certificate
 * has them, and the refusal that names the missing role.
 */
import { ToolError } from "../errors.ts";
import { mayCall, rolesFor } from "../talos/rbac.ts";
import type { ToolSpec } from "../tools/define.ts";

/** Stands for "any reader-level RPC" when a tool declares none. */
const READER_LEVEL = "/machine.MachineService/Version";

/** The RPCs a tool's role check uses: as declared, reader-level when absent, none for `rpcs: []`. */
const rpcsOf = (tool: Pick<ToolSpec, "rpcs">) => tool.rpcs ?? [READER_LEVEL];

/** Roles that may use the tool: those allowed to call every RPC it declares (empty: no API call at all). */
export function toolRoles(tool: Pick<ToolSpec, "rpcs">): readonly string[] {
  const rpcs = rpcsOf(tool);
  if (!rpcs.length) return [];
  return rolesFor(rpcs[0]).filter((r) => rpcs.every((m) => rolesFor(m).includes(r)));
}

/** Whether a certificate with `roles` can use the tool. */
export function mayUse(tool: Pick<ToolSpec, "rpcs">, roles: readonly string[]): boolean {
  return rpcsOf(tool).every((m) => mayCall(roles, m));
}

/** Refuses, before any RPC, a call whose context's certificate lacks the tool's role. */
export function assertMayUse(
  tool: Pick<ToolSpec, "name" | "rpcs">,
  context: { name: string; cert: { roles: readonly string[] } },
): void {
  if (mayUse(tool, context.cert.roles)) return;
  const missing = rpcsOf(tool).filter((m) => !mayCall(context.cert.roles, m));
  throw new ToolError(
    `${tool.name} needs a certificate with role ${toolRoles(tool).join(" or ")} (it calls ` +
      `${missing.map((m) => m.slice(1)).join(", ")}); context "${context.name}" has ` +
      `${context.cert.roles.join(", ") || "no roles"}. Pass a context whose certificate has that role ` +
      `(talos_contexts lists roles per context).`,
    "PERMISSION_DENIED",
  );
}
