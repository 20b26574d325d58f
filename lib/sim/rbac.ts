/**
 * @module The simulator's own RBAC table, transcribed from TALOS_API.md §1.6
 * (Talos 1.14) independently of lib/talos/rbac.ts, so that the product's
 * table is checked against it rather than against itself.
 */

export const SIM_ROLE = {
  admin: "os:admin",
  operator: "os:operator",
  reader: "os:reader",
  etcdBackup: "os:etcd:backup",
  metaWriter: "os:meta:writer",
} as const;

const ADMIN = [SIM_ROLE.admin];
const OPERATOR = [SIM_ROLE.admin, SIM_ROLE.operator];
const READER = [SIM_ROLE.admin, SIM_ROLE.operator, SIM_ROLE.reader];

const M = "/machine.MachineService/";

/** Methods not reader-level; every other method of proto/ is (the §1.6 "admin, operator, reader" row). */
const ALLOWED: Record<string, readonly string[]> = {
  [`${M}ApplyConfiguration`]: ADMIN,
  [`${M}Read`]: ADMIN,
  [`${M}Bootstrap`]: ADMIN,
  [`${M}Reset`]: ADMIN,
  [`${M}Kubeconfig`]: ADMIN,
  [`${M}Rollback`]: ADMIN,
  [`${M}Upgrade`]: ADMIN,
  [`${M}EtcdForfeitLeadership`]: ADMIN,
  [`${M}EtcdLeaveCluster`]: ADMIN,
  [`${M}EtcdRemoveMemberByID`]: ADMIN,
  [`${M}GenerateClientConfiguration`]: ADMIN,
  "/machine.LifecycleService/Upgrade": ADMIN, // LifecycleService/*: admin only
  [`${M}Reboot`]: OPERATOR,
  [`${M}Shutdown`]: OPERATOR,
  [`${M}Restart`]: OPERATOR,
  [`${M}ServiceStart`]: OPERATOR,
  [`${M}ServiceStop`]: OPERATOR,
  [`${M}ServiceRestart`]: OPERATOR,
  [`${M}EtcdAlarmDisarm`]: OPERATOR,
  [`${M}EtcdDefragment`]: OPERATOR,
  [`${M}ImagePull`]: OPERATOR,
  "/machine.ImageService/Pull": OPERATOR,
  [`${M}MetaWrite`]: [SIM_ROLE.admin, SIM_ROLE.metaWriter], // "admin, meta:writer" row
  [`${M}MetaDelete`]: [SIM_ROLE.admin, SIM_ROLE.metaWriter],
  [`${M}EtcdSnapshot`]: [...OPERATOR, SIM_ROLE.etcdBackup],
  [`${M}EtcdMemberList`]: [...READER, SIM_ROLE.etcdBackup],
  [`${M}EtcdStatus`]: [...READER, SIM_ROLE.etcdBackup],
  [`${M}EtcdAlarmList`]: [...READER, SIM_ROLE.etcdBackup],
};

/** Whether a certificate with `roles` may call `method` (a full gRPC path). */
export function simMayCall(roles: readonly string[], method: string): boolean {
  return (ALLOWED[method] ?? READER).some((r) => roles.includes(r));
}

/** Sensitive COSI resource types (machine config, secrets) additionally need os:admin (§6.3). */
export const SIM_SENSITIVE_ROLES: readonly string[] = ADMIN;
