/**
 * @module The summary's diagnosis rules on their edges: what counts as a kernel
 * error, which volumes are watched, where each threshold starts, and what is
 * left unsaid because another warning already explains it.
 */
import { describe, expect, test } from "bun:test";
import {
  certWarning,
  etcdWarnings,
  machineWarning,
  memoryWarning,
  networkWarnings,
  serviceTroubles,
  skewWarning,
  timeWarning,
  volumeWarnings,
  watchedVolumes,
} from "../../lib/talos/diagnosis.ts";
import { kernelFindings } from "../../lib/talos/kernel_log.ts";

const rec = (prio: string, text: string) => `kern: ${prio.padStart(7)}: [2026-11-22T00:00:00.123456Z]: ${text}`;
const MiB = 1024 ** 2;

describe("kernel findings", () => {
  test.each([
    ["Out of memory: Killed process 1 (java) total-vm:1kB", [{ kind: "oom", subject: "java" }]],
    ["Memory cgroup out of memory: Killed process 77 (nginx) total-vm:1kB", [{ kind: "oom", subject: "nginx" }]],
    ["I/O error, dev nvme0n1, sector 8 op 0x1:(WRITE) flags 0x0", [{ kind: "io", subject: "nvme0n1" }]],
    ["Buffer I/O error on dev sdb1, logical block 0, async page read", [{ kind: "io", subject: "sdb1" }]],
    ["critical medium error, dev sdc, sector 100 op 0x0:(READ)", [{ kind: "io", subject: "sdc" }]],
    ["EXT4-fs error (device sda6): ext4_lookup:1: deleted inode referenced", [{ kind: "fs", subject: "sda6" }]],
    ["XFS (sdb1): Corruption detected. Unmount and run xfs_repair", [{ kind: "fs", subject: "sdb1" }]],
    ["BTRFS error (device sdd1): bdev /dev/sdd1 errs: wr 1", [{ kind: "fs", subject: "sdd1" }]],
    // Healthy nodes print these: no finding.
    ["EXT4-fs (sda6): warning: mounting unchecked fs", []],
    ["XFS (sda6): Mounting V5 Filesystem", []],
    ["sd 2:0:0:0: [sdb] Attached SCSI disk", []],
    ["java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL)", []],
  ])("%s", (text, want) => {
    expect(kernelFindings([rec("err", text)])).toEqual(want.map((w) => ({ ...w, count: 1, last: text })) as never);
  });

  test("one finding per kind and device, counted, with the newest record", () => {
    const f = kernelFindings([
      rec("err", "I/O error, dev sdb, sector 1 op 0x0:(READ)"),
      rec("err", "I/O error, dev sdc, sector 1 op 0x0:(READ)"),
      rec("err", "I/O error, dev sdb, sector 2 op 0x0:(READ)"),
    ]);
    expect(f).toEqual([
      { kind: "io", subject: "sdb", count: 2, last: "I/O error, dev sdb, sector 2 op 0x0:(READ)" },
      { kind: "io", subject: "sdc", count: 1, last: "I/O error, dev sdc, sector 1 op 0x0:(READ)" },
    ]);
  });
});

describe("volumes", () => {
  const m = (filesystem: string, mounted_on: string, used_pct: number, also?: string[]) => ({
    filesystem,
    mounted_on,
    size_gib: 10,
    used_pct,
    ...(also ? { also } : {}),
  });

  test("read-only images are never watched; EPHEMERAL, STATE and user volumes are", () => {
    const all = [
      m("/dev/loop0", "/", 100),
      m("/dev/sr0", "/media", 100),
      m("/dev/loop3", "/usr/local/lib/extension", 100),
      m("/dev/sda5", "/system/state", 10),
      m("/dev/mapper/luks2-ephemeral", "/var", 10, ["/var/lib/kubelet"]),
      m("/dev/sdc1", "/var/mnt/data", 10),
    ];
    expect(watchedVolumes(all).map((v) => v.volume)).toEqual(["STATE", "EPHEMERAL", "user volume data"]);
    expect(volumeWarnings(all)).toEqual([]);
  });

  test("the threshold is 90% full", () => {
    expect(volumeWarnings([m("/dev/sda6", "/var", 89.9)])).toEqual([]);
    expect(volumeWarnings([m("/dev/sda6", "/var", 90)])).toEqual(["EPHEMERAL (/var) 90% full of 10 GiB (Mounts)"]);
  });
});

describe("thresholds", () => {
  test("memory: 5% available or less", () => {
    expect(memoryWarning({ total_mib: 1000, available_mib: 51, used_pct: 94.9 })).toBeUndefined();
    expect(memoryWarning({ total_mib: 1000, available_mib: 50, used_pct: 95 })).toBe(
      "memory pressure: 5% available (50 of 1000 MiB, MemAvailable)",
    );
  });

  test("etcd: 80% of the 2 GiB quota; fragmentation from 100 MiB and half free", () => {
    const st = (db: number, inUse: number) => ({ db_size: db, db_size_in_use: inUse, leader: "1", errors: [] });
    expect(etcdWarnings(st(1638 * MiB, 1638 * MiB), undefined, 10)).toEqual([]);
    expect(etcdWarnings(st(1639 * MiB, 1639 * MiB), undefined, 10)).toHaveLength(1);
    expect(etcdWarnings(st(99 * MiB, 10 * MiB), undefined, 10)).toEqual([]); // small: not worth it
    expect(etcdWarnings(st(200 * MiB, 101 * MiB), undefined, 10)).toEqual([]);
    expect(etcdWarnings(st(200 * MiB, 100 * MiB), undefined, 10)[0]).toContain("mostly fragmentation");
  });

  test("etcd: alarms among the status errors are left to the cluster-wide alarm warning", () => {
    const status = { db_size: 1, db_size_in_use: 1, leader: "5", errors: ["memberID:5 alarm:NOSPACE "] };
    expect(etcdWarnings(status, undefined, 10)).toEqual([]);
  });

  test("restart loop: 3 failures in the window", () => {
    const ev = (n: number) =>
      Array.from({ length: n }, () => ({
        id: "",
        actor_id: "",
        metadata: null,
        data: { "@type": "talos/runtime/machine.ServiceStateEvent", service: "ext-a", action: "FAILED" },
      }));
    const running = [{ id: "ext-a", state: "Running", health: { unknown: true } }];
    expect(serviceTroubles(running, ev(2) as never, 0).size).toBe(0);
    expect(serviceTroubles(running, ev(3) as never, 0).get("ext-a")?.loop).toBe("failed 3 times recently"); // no xid ids: no time
  });

  test("time: unsynchronised only counts while synchronisation is on", () => {
    expect(timeWarning({ synced: true })).toBeUndefined();
    expect(timeWarning({ synced: false, syncDisabled: true })).toBeUndefined();
    expect(timeWarning({ synced: false })).toMatch(/^time not synchronised/);
  });

  test("certificate: within 7 days, or expired", () => {
    const now = Date.UTC(2026, 0, 1);
    expect(certWarning("c", new Date(now + 8 * 86_400_000), now)).toBeUndefined();
    expect(certWarning("c", new Date(now + 6.5 * 86_400_000), now)).toContain("expires in 6 days");
    expect(certWarning("c", new Date(now - 1000), now)).toBe(
      "talosconfig: the client certificate of context c expired at 2025-12-31T23:59:59Z",
    );
  });
});

describe("said once, by the warning that explains it", () => {
  const unmet = (...names: string[]) => ({
    stage: "running",
    status: { ready: false, unmetConditions: names.map((name) => ({ name, reason: `${name} bad` })) },
  });
  const none = { time: false, services: false, network: false, nodeReady: false };

  test("unmet conditions other warnings explain are not repeated", () => {
    expect(machineWarning(unmet("services", "time"), { ...none, services: true, time: true })).toBeUndefined();
    expect(machineWarning(unmet("services", "staticPods"), { ...none, services: true })).toBe(
      "machine not ready: unmet staticPods (staticPods bad) (MachineStatus)",
    );
    expect(machineWarning({ stage: "booting", status: { ready: false } }, none)).toBe(
      "machine stage booting, not running (MachineStatus)",
    );
  });

  test("an unused link down is fine; the primary link down is one warning, not also 'no route'", () => {
    const link = (id: string, up: boolean) => ({
      id,
      spec: { type: "ether", kind: "", operationalState: up ? "up" : "down", linkState: up },
    });
    const route = { spec: { dst: "", table: "main", outLinkName: "eth0" } };
    expect(networkWarnings([link("eth0", true), link("eth1", false)], [route], [])).toEqual([]);
    expect(networkWarnings([link("eth0", false), link("eth1", true)], [], ["eth0"])).toEqual([
      "network: primary link eth0 (carries the node's address) is down (LinkStatus operationalState=down, carrier off)",
    ]);
  });

  test("version skew names the odd node against the majority", () => {
    expect(skewWarning([{ node: "a", version: "v1.13.9" }, { node: "b", version: "v1.13.9" }])).toBeUndefined();
    expect(
      skewWarning([
        { node: "a", version: "v1.13.9" },
        { node: "b", version: "v1.12.4" },
        { node: "c", version: "v1.13.9" },
      ]),
    ).toMatch(/^Talos version skew \(Version\): b runs v1\.12\.4; the other 2 nodes run v1\.13\.9\./);
  });
});
