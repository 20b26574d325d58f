/**
 * @module Each tool's declared `rpcs` (ToolSpec.rpcs, what RBAC visibility and
 * refusals rest on) covers every RPC above reader level that the tool really
 * makes: every tool is driven once against the simulator, which records the
 * calls, so the RBAC table cannot drift from the code. Reader-level RPCs
 * need no declaring (every certificate may call them).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageDefinition } from "../lib/talos/protos.ts";
import { idempotent } from "../lib/talos/retry.ts";
import { ROLE, rolesFor } from "../lib/talos/rbac.ts";
import { ALL_TOOLS } from "../lib/tools/mod.ts";
import { type Harness, inMemoryHarness, ok } from "./harness.ts";

const CP = "10.5.0.2";
const WORKER = "10.5.0.5";
const OLD_WORKER = "10.5.0.6"; // Talos 1.12: legacy fallbacks (ImageList, ImagePull, MachineService.Upgrade)
const OUT = mkdtempSync(join(tmpdir(), "talos-mcp-rpcs-"));
const CONFIG = join(OUT, "worker.yaml");

/**
 * One representative call per tool, the mutating ones confirmed and aimed at
 * workers (the quorum guard stays quiet), in an order where each leaves the
 * cluster usable for the next.
 */
const CASES: Record<string, Record<string, unknown>> = {
  talos_contexts: {},
  talos_validate: { config: "version: v1alpha1\nmachine:\n  type: worker\n", mode: "cloud" },
  talos_version: {},
  talos_services: {},
  talos_containers: {},
  talos_processes: {},
  talos_stats: {},
  talos_mounts: {},
  talos_disks: {},
  talos_network: {},
  talos_netstat: {},
  talos_dmesg: { nodes: [CP] },
  talos_logs: { service_name: "kubelet", nodes: [CP] },
  talos_events: { nodes: [CP] },
  talos_etcd: {},
  talos_health: {},
  talos_resource_definitions: {},
  talos_get: { resource_type: "machinestatus" },
  talos_node_summary: { nodes: [CP, OLD_WORKER] },
  talos_images: { nodes: [WORKER, OLD_WORKER] },
  talos_list_files: { path: "/etc", nodes: [CP] },
  talos_read_file: { path: "/etc/hostname", nodes: [CP] },
  talos_kubeconfig: { path: join(OUT, "kubeconfig") },
  talos_etcd_snapshot: { path: join(OUT, "etcd.snapshot") },
  talos_talosconfig_issue: { path: join(OUT, "reader.yaml") },
  talos_support_bundle: { nodes: [CP], path: join(OUT, "bundle.tar.gz"), log_lines: 10 },
  talos_etcd_maintenance: { nodes: [CP], action: "defrag", confirm: true },
  talos_upgrade_plan: { image: "ghcr.io/siderolabs/installer:v1.13.10" },
  talos_apply_config: { nodes: [WORKER], config_file: CONFIG, dry_run: false, mode: "no-reboot", confirm: true },
  talos_meta: { nodes: [WORKER], action: "write", key: "0x0c", value: "rack-7", confirm: true },
  // On a cluster made new again below: etcd waits for its bootstrap.
  talos_bootstrap: { nodes: [CP], confirm: true },
  talos_patch_config: { nodes: [WORKER], patch: "machine:\n  network:\n    hostname: web-1\n" },
  talos_image_pull: { nodes: [WORKER, OLD_WORKER], image: "docker.io/library/busybox:1.37", confirm: true },
  talos_service_action: { nodes: [WORKER], service_name: "kubelet", action: "restart", confirm: true },
  talos_reboot: { nodes: [WORKER], wait: true, confirm: true },
  talos_upgrade_kubernetes: { nodes: [CP, WORKER], version: "v1.35.0", dry_run: false, confirm: true },
  talos_upgrade_cluster: { nodes: [WORKER, OLD_WORKER], version: "v1.13.10", dry_run: false, confirm: true },
  talos_upgrade: { nodes: [WORKER, OLD_WORKER], image: "ghcr.io/siderolabs/installer:v1.13.10", confirm: true },
  // After the upgrade: the worker has a previous version to go back to.
  talos_rollback: { nodes: [WORKER], confirm: true },
  talos_reset: { nodes: [OLD_WORKER], reboot: true, confirm: true },
  talos_shutdown: { nodes: ["10.5.0.4"], confirm: true }, // a control plane: 2 of 3 etcd members stay up
};

/** Model changes some calls need first (the simulator's model is the test's to set up). */
const BEFORE: Record<string, () => void> = {
  talos_apply_config: () => writeFileSync(CONFIG, h.sim.cluster.find(WORKER)!.machineConfig),
  talos_bootstrap: () => {
    h.sim.cluster.etcdBootstrapped = false;
    for (const n of h.sim.cluster.controlPlanes()) h.sim.cluster.setService(n.ip, "etcd", { state: "Preparing" });
  },
};

let h: Harness;
/** Methods each tool's call made, in order. */
const made = new Map<string, string[]>();

beforeAll(async () => {
  h = await inMemoryHarness({
    sim: { controlPlanes: 3, workers: 2, version: ["v1.13.9", "v1.13.9", "v1.13.9", "v1.13.9", "v1.12.4"] },
    env: { TALOS_MCP_POLL_INTERVAL_MS: "10" },
  });
  for (const [tool, args] of Object.entries(CASES)) {
    BEFORE[tool]?.();
    const before = h.sim.calls.length;
    ok(await h.call(tool, args));
    made.set(tool, h.sim.calls.slice(before).map((c) => c.method));
  }
}, 60_000);

afterAll(async () => {
  await h?.close();
  rmSync(OUT, { recursive: true, force: true });
});

const readerLevel = (method: string) => rolesFor(method).includes(ROLE.reader);

describe("declared rpcs", () => {
  test("every tool has a case here (a new tool must be driven too)", () => {
    expect(Object.keys(CASES).sort()).toEqual(ALL_TOOLS.map((t) => t.name).sort());
  });

  test.each(ALL_TOOLS.map((t) => [t.name]))("%s makes no RPC above reader level that it does not declare", (name) => {
    const spec = ALL_TOOLS.find((t) => t.name === name)!;
    const calls = made.get(name)!;
    if (spec.rpcs?.length === 0) {
      expect(calls).toEqual([]); // `[]` promises no API call at all
      return;
    }
    expect(calls.length).toBeGreaterThan(0);
    const declared = [...spec.rpcs ?? [], ...spec.optionalRpcs ?? []];
    const undeclared = [...new Set(calls.filter((m) => !readerLevel(m) && !declared.includes(m)))];
    expect(undeclared).toEqual([]);
  });

  test("each declared rpc is a method in proto/ and above reader level (else it needs no declaring)", async () => {
    const pkg = await packageDefinition();
    const known = new Set(
      Object.values(pkg).flatMap((svc) =>
        "format" in svc ? [] : Object.values(svc as Record<string, { path: string }>).map((m) => m.path)
      ),
    );
    for (const spec of ALL_TOOLS) {
      for (const rpc of [...spec.rpcs ?? [], ...spec.optionalRpcs ?? []]) {
        expect({ tool: spec.name, rpc, known: known.has(rpc), readerLevel: readerLevel(rpc) })
          .toEqual({ tool: spec.name, rpc, known: true, readerLevel: false });
      }
    }
  });
});

describe("what the client may send again", () => {
  /**
   * Every RPC in proto/ the client retries after a dropped connection (lib/talos/retry.ts idempotent()):
   * reader-level ones plus a few admin reads. An RPC missing from the RBAC table counts as reader-level, so a
   * new mutating RPC without its row would be resent silently: this reviewed list makes that a failing test.
   */
  const RETRIED = [
    "/cluster.ClusterService/HealthCheck",
    "/cosi.resource.State/Get",
    "/cosi.resource.State/List",
    "/cosi.resource.State/Watch",
    "/machine.ImageService/List",
    "/machine.MachineService/Containers",
    "/machine.MachineService/CPUInfo",
    "/machine.MachineService/DiskStats",
    "/machine.MachineService/DiskUsage",
    "/machine.MachineService/Dmesg",
    "/machine.MachineService/EtcdAlarmList",
    "/machine.MachineService/EtcdMemberList",
    "/machine.MachineService/EtcdSnapshot",
    "/machine.MachineService/EtcdStatus",
    "/machine.MachineService/Events",
    "/machine.MachineService/Hostname",
    "/machine.MachineService/ImageList",
    "/machine.MachineService/Kubeconfig",
    "/machine.MachineService/List",
    "/machine.MachineService/LoadAvg",
    "/machine.MachineService/Logs",
    "/machine.MachineService/LogsContainers",
    "/machine.MachineService/Memory",
    "/machine.MachineService/Mounts",
    "/machine.MachineService/Netstat",
    "/machine.MachineService/NetworkDeviceStats",
    "/machine.MachineService/Processes",
    "/machine.MachineService/Read",
    "/machine.MachineService/ServiceList",
    "/machine.MachineService/Stats",
    "/machine.MachineService/SystemStat",
    "/machine.MachineService/Version",
    "/storage.StorageService/Disks",
  ];

  test("is exactly the reviewed list of reads", async () => {
    const pkg = await packageDefinition();
    const all = Object.values(pkg).flatMap((svc) =>
      "format" in svc ? [] : Object.values(svc as Record<string, { path: string }>).map((m) => m.path)
    );
    expect(all.filter(idempotent).sort()).toEqual([...RETRIED].sort());
  });
});
