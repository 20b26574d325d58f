/** @module Which tools each Talos role can use, from the RPCs tools declare and the RBAC table. */
import { describe, expect, test } from "bun:test";
import { assertMayUse, mayUse, toolRoles } from "../../lib/guards/roles.ts";
import { ALL_TOOLS } from "../../lib/tools/mod.ts";

const usable = (roles: string[]) => ALL_TOOLS.filter((t) => mayUse(t, roles)).map((t) => t.name);
const all = ALL_TOOLS.map((t) => t.name);

describe("role-aware tools", () => {
  test("admin uses everything", () => {
    expect(usable(["os:admin"])).toEqual(all);
  });

  test.each([
    [["os:operator"], [
      "talos_read_file",
      "talos_kubeconfig",
      "talos_talosconfig_issue",
      "talos_upgrade",
      "talos_upgrade_cluster",
      "talos_upgrade_kubernetes",
      "talos_rollback",
      "talos_patch_config",
      "talos_apply_config",
      "talos_bootstrap",
      "talos_reset",
    ]],
    // os:meta:writer may change META keys, and nothing else above reading (talos_meta is listed for readers).
    [["os:reader", "os:meta:writer"], [
      "talos_read_file",
      "talos_kubeconfig",
      "talos_etcd_snapshot",
      "talos_talosconfig_issue",
      "talos_service_action",
      "talos_reboot",
      "talos_upgrade",
      "talos_upgrade_cluster",
      "talos_upgrade_kubernetes",
      "talos_rollback",
      "talos_patch_config",
      "talos_image_pull",
      "talos_apply_config",
      "talos_bootstrap",
      "talos_shutdown",
      "talos_reset",
      "talos_etcd_maintenance",
    ]],
    [["os:reader"], [
      "talos_read_file",
      "talos_kubeconfig",
      "talos_etcd_snapshot",
      "talos_talosconfig_issue",
      "talos_service_action",
      "talos_reboot",
      "talos_upgrade",
      "talos_upgrade_cluster",
      "talos_upgrade_kubernetes",
      "talos_rollback",
      "talos_patch_config",
      "talos_image_pull",
      "talos_apply_config",
      "talos_bootstrap",
      "talos_shutdown",
      "talos_reset",
      "talos_etcd_maintenance",
    ]],
    [["os:reader", "os:etcd:backup"], [
      "talos_read_file",
      "talos_kubeconfig",
      "talos_talosconfig_issue",
      "talos_service_action",
      "talos_reboot",
      "talos_upgrade",
      "talos_upgrade_cluster",
      "talos_upgrade_kubernetes",
      "talos_rollback",
      "talos_patch_config",
      "talos_image_pull",
      "talos_apply_config",
      "talos_bootstrap",
      "talos_shutdown",
      "talos_reset",
      "talos_etcd_maintenance",
    ]],
  ])("%p cannot use %p", (roles, hidden) => {
    expect(all.filter((n) => !usable(roles).includes(n))).toEqual(hidden);
  });

  test("an etcd-backup-only certificate gets the snapshot and the tools that call no RPC", () => {
    expect(usable(["os:etcd:backup"])).toEqual(["talos_contexts", "talos_etcd_snapshot", "talos_validate"]);
  });

  test("roles of the tools whose RPCs need more than os:reader, as docs/tools.md lists them", () => {
    const of = (name: string) => toolRoles(ALL_TOOLS.find((t) => t.name === name)!);
    expect(of("talos_node_summary")).toEqual(["os:admin", "os:operator", "os:reader"]);
    expect(of("talos_image_pull")).toEqual(["os:admin", "os:operator"]);
    expect(of("talos_kubeconfig")).toEqual(["os:admin"]);
    expect(of("talos_etcd_snapshot")).toEqual(["os:admin", "os:operator", "os:etcd:backup"]);
    expect(of("talos_contexts")).toEqual([]);
    expect(of("talos_validate")).toEqual([]);
    expect(of("talos_service_action")).toEqual(["os:admin", "os:operator"]);
    expect(of("talos_reboot")).toEqual(["os:admin", "os:operator"]);
    expect(of("talos_upgrade")).toEqual(["os:admin"]);
    expect(of("talos_rollback")).toEqual(["os:admin"]);
    expect(of("talos_patch_config")).toEqual(["os:admin"]);
    expect(of("talos_apply_config")).toEqual(["os:admin"]);
    expect(of("talos_bootstrap")).toEqual(["os:admin"]);
    expect(of("talos_reset")).toEqual(["os:admin"]);
    expect(of("talos_shutdown")).toEqual(["os:admin", "os:operator"]);
    // Listed for readers (read is a COSI read); write and delete need their own RPC's role (rpcsFor).
    expect(of("talos_meta")).toEqual(["os:admin", "os:operator", "os:reader"]);
  });

  test("the refusal names tool, role, RPC and context", () => {
    const tool = ALL_TOOLS.find((t) => t.name === "talos_kubeconfig")!;
    expect(() => assertMayUse(tool, { name: "ro", cert: { roles: ["os:reader"] } })).toThrow(
      "talos_kubeconfig needs a certificate with role os:admin (it calls machine.MachineService/Kubeconfig); " +
        'context "ro" has os:reader.',
    );
  });
});
