/**
 * @module Which Talos roles may call which RPC (Talos 1.14's rule table; roles are the
 * Organization values of the client certificate, enforced on the target node).
 * Used to name the missing role in PERMISSION_DENIED messages and to decide which
 * tools a certificate can use. The simulator enforces its own transcription
 * (lib/sim/rbac.ts), so the two check each other.
 */

export const ROLE = {
  admin: "os:admin",
  operator: "os:operator",
  reader: "os:reader",
  etcdBackup: "os:etcd:backup",
  metaWriter: "os:meta:writer",
} as const;

const A = [ROLE.admin];
const AO = [ROLE.admin, ROLE.operator];
const AOR = [ROLE.admin, ROLE.operator, ROLE.reader];

const RULES: Record<string, readonly string[]> = {
  "/machine.MachineService/ApplyConfiguration": A,
  "/machine.MachineService/Read": A,
  "/machine.MachineService/Bootstrap": A,
  "/machine.MachineService/Reset": A,
  "/machine.MachineService/Kubeconfig": A,
  "/machine.MachineService/Rollback": A,
  "/machine.MachineService/Upgrade": A,
  "/machine.MachineService/EtcdForfeitLeadership": A,
  "/machine.MachineService/EtcdLeaveCluster": A,
  "/machine.MachineService/EtcdRemoveMemberByID": A,
  "/machine.MachineService/GenerateClientConfiguration": A,
  "/machine.LifecycleService/Upgrade": A,
  "/machine.MachineService/Reboot": AO,
  "/machine.MachineService/Shutdown": AO,
  "/machine.MachineService/Restart": AO,
  "/machine.MachineService/ServiceStart": AO,
  "/machine.MachineService/ServiceStop": AO,
  "/machine.MachineService/ServiceRestart": AO,
  "/machine.MachineService/EtcdAlarmDisarm": AO,
  "/machine.MachineService/EtcdDefragment": AO,
  "/machine.MachineService/ImagePull": AO,
  "/machine.ImageService/Pull": AO,
  // os:meta:writer exists from Talos 1.13; before, META writes were admin-only.
  "/machine.MachineService/MetaWrite": [ROLE.admin, ROLE.metaWriter],
  "/machine.MachineService/MetaDelete": [ROLE.admin, ROLE.metaWriter],
  "/machine.MachineService/EtcdSnapshot": [ROLE.admin, ROLE.operator, ROLE.etcdBackup],
  "/machine.MachineService/EtcdMemberList": [...AOR, ROLE.etcdBackup],
  "/machine.MachineService/EtcdStatus": [...AOR, ROLE.etcdBackup],
  "/machine.MachineService/EtcdAlarmList": [...AOR, ROLE.etcdBackup],
};

/** Roles allowed to call `method` (a full gRPC path); reader-level when not listed. */
export function rolesFor(method: string): readonly string[] {
  return RULES[method] ?? AOR;
}

/** Whether a certificate with `roles` may call `method`. */
export function mayCall(roles: readonly string[], method: string): boolean {
  return rolesFor(method).some((r) => roles.includes(r));
}
