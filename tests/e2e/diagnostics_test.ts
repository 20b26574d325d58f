/**
 * @module Diagnostics tools through the binary: talos_stats, talos_mounts,
 * talos_disks, talos_network, talos_netstat, talos_images and the guarded
 * talos_image_pull, with the RPCs and request fields the simulator recorded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { entry, failed, type Harness, ok, spawnHarness, text } from "../harness.ts";

let sim: Sim;
let h: Harness;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 1, workers: 1, version: ["v1.13.9", "v1.12.4"] });
  h = await spawnHarness({ simInstance: sim });
});
afterAll(async () => {
  await h?.close();
  await sim?.stop();
});

const since = (n: number) => sim.calls.slice(n);

describe("talos_stats", () => {
  test("derived figures, not raw counters", async () => {
    const e = entry(ok(await h.call("talos_stats", { nodes: ["10.5.0.3"] })), "10.5.0.3");
    expect(e.cpus).toBe(8);
    expect(e.memory).toEqual({ total_mib: 16384, available_mib: 9011, used_pct: 45 });
    expect(e.load).toEqual([0.79, 0.71, 0.63]);
    // load 0.79 on 8 CPUs in the simulator (its second node): 9.875% busy, rounded to one decimal.
    expect(Math.abs(e.cpu_busy_pct_since_boot - 9.875)).toBeLessThanOrEqual(0.051);
    expect(e.disks).toEqual([{ device: "sda", read_mib: 1953, written_mib: 21094, io_time_s: 410, in_progress: 0 }]);
    expect(e.network).toEqual([{ device: "eth0", rx_mib: 7629, tx_mib: 3052, errors: 3 }]);
  });
});

describe("talos_mounts and talos_disks", () => {
  test("block filesystems with bind mounts folded; all=true adds tmpfs", async () => {
    const e = entry(ok(await h.call("talos_mounts", { nodes: ["10.5.0.2"] })), "10.5.0.2");
    expect(e.mounts).toEqual([
      // The root is the read-only squashfs image: statfs reports it full, as on a real node.
      { filesystem: "/dev/loop0", mounted_on: "/", size_gib: 0.08, used_pct: 100 },
      { filesystem: "/dev/sda5", mounted_on: "/system/state", size_gib: 0.1, used_pct: 7 },
      {
        filesystem: "/dev/sda6",
        mounted_on: "/var",
        size_gib: 90,
        used_pct: 27,
        also: ["/var/lib/kubelet", "/etc/cni"],
      },
    ]);
    const all = entry(ok(await h.call("talos_mounts", { nodes: ["10.5.0.2"], all: true })), "10.5.0.2");
    expect(all.mounts.map((m: { mounted_on: string }) => m.mounted_on)).toContain("/run");
  });

  test("disks from StorageService.Disks", async () => {
    const e = entry(ok(await h.call("talos_disks", { nodes: ["10.5.0.2"] })), "10.5.0.2");
    expect(e.disks).toEqual([{
      device: "/dev/sda",
      size_gib: 100,
      model: "QEMU HARDDISK",
      serial: "QM00001",
      type: "HDD",
      system_disk: true,
    }]);
  });
});

describe("talos_network and talos_netstat", () => {
  test("addresses, links and routes in one compact object", async () => {
    const e = entry(ok(await h.call("talos_network", { nodes: ["10.5.0.2"] })), "10.5.0.2");
    expect(e.addresses).toEqual(["eth0 10.5.0.2/24"]);
    expect(e.links).toEqual([
      { name: "lo", type: "loopback", state: "unknown", mtu: 65536, mac: "00:00:00:00:00:00" },
      { name: "eth0", type: "ether", state: "up", mtu: 1500, mac: "52:54:00:05:00:02" },
    ]);
    expect(e.routes).toEqual([{ dst: "default", gateway: "10.5.0.1", link: "eth0", metric: 1024 }]);
    const only = entry(ok(await h.call("talos_network", { nodes: ["10.5.0.2"], include: ["routes"] })), "10.5.0.2");
    expect(only.addresses).toBeUndefined();
    expect(only.routes).toHaveLength(1);
  });

  test("netstat sets l4proto flags and hostnetwork, as Talos needs", async () => {
    const n = sim.calls.length;
    const e = entry(ok(await h.call("talos_netstat", { nodes: ["10.5.0.2"] })), "10.5.0.2");
    const req = since(n).find((c) => c.method.endsWith("/Netstat"))!.request as Record<string, any>;
    expect(req.l4proto).toMatchObject({ tcp: true, tcp6: true, udp: true, udp6: true, raw: false });
    expect(req.netns.hostnetwork).toBe(true);
    expect(req.filter).toBe("LISTENING");
    expect(e.sockets).toContainEqual({ proto: "tcp", local: "0.0.0.0:50000", state: "LISTEN", process: "apid/1" });
    expect(e.sockets).toContainEqual({
      proto: "tcp6",
      local: "[::]:6443",
      state: "LISTEN",
      process: "kube-apiserver/2300",
    });
    expect(e.sockets.every((s: { state: string }) => s.state === "LISTEN")).toBe(true);
  });

  test("netstat is bounded by limit and says how many more", async () => {
    const r = ok(await h.call("talos_netstat", { nodes: ["10.5.0.2"], filter: "all", limit: 2 }));
    const e = entry(r, "10.5.0.2");
    expect(e.sockets).toHaveLength(2);
    expect(e.more).toBe(true);
    expect(r.truncated.tool_limit).toBe("sockets beyond limit=2 left out on 1 node(s) (more: true), up to 6 per node");
    expect(ok(await h.call("talos_netstat", { nodes: ["10.5.0.2"], filter: "all" })).truncated).toBeUndefined();
  });
});

describe("talos_images", () => {
  test("ImageService.List on 1.13, legacy ImageList on 1.12 after UNIMPLEMENTED", async () => {
    const n = sim.calls.length;
    const r = ok(await h.call("talos_images"));
    const cp = entry(r, "10.5.0.2");
    const worker = entry(r, "10.5.0.3");
    expect(cp.images.map((i: { name: string }) => i.name)).toContain("registry.k8s.io/kube-apiserver:v1.34.1");
    expect(cp.images[0].digest).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(worker.images.map((i: { name: string }) => i.name)).toContain("registry.k8s.io/pause:3.10");
    const calls = since(n);
    expect((calls.find((c) => c.method === "/machine.ImageService/List")!.request as any).containerd)
      .toEqual({ driver: "CRI", namespace: "NS_CRI" });
    expect(calls.filter((c) => c.method === "/machine.ImageService/List").map((c) => c.node[0]).sort())
      .toEqual(["10.5.0.2", "10.5.0.3"]);
    expect(calls.filter((c) => c.method === "/machine.MachineService/ImageList").map((c) => c.node[0]))
      .toEqual(["10.5.0.3"]);
    expect(r.truncated).toBeUndefined();
  });

  test("limit bounds each node's list; the cut is said in truncated", async () => {
    const r = ok(await h.call("talos_images", { limit: 1 }));
    expect(entry(r, "10.5.0.2").images).toHaveLength(1);
    expect(entry(r, "10.5.0.2").more).toBe(true);
    expect(r.truncated.tool_limit).toBe("listing stopped at limit=1 images on 2 node(s) (more: true)");
  });
});

describe("talos_image_pull (guarded)", () => {
  test("without confirm: true, refused with no RPC", async () => {
    const n = sim.calls.length;
    const r = await h.call("talos_image_pull", { nodes: ["10.5.0.2"], image: "docker.io/library/busybox:1.37" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("confirm: true");
    expect(since(n).filter((c) => /Pull/.test(c.method))).toHaveLength(0);
  });

  test("nodes are required", async () => {
    const r = await h.call("talos_image_pull", { image: "docker.io/library/busybox:1.37", confirm: true });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("nodes");
  });

  test("pulls with ImageService.Pull, falls back to ImagePull on an older node", async () => {
    const n = sim.calls.length;
    const r = ok(
      await h.call("talos_image_pull", {
        nodes: ["10.5.0.2", "10.5.0.3"],
        image: "docker.io/library/busybox:1.37",
        confirm: true,
      }),
    );
    expect(entry(r, "10.5.0.2")).toMatchObject({ via: "ImageService.Pull" });
    expect(entry(r, "10.5.0.2").pulled).toMatch(/^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
    expect(entry(r, "10.5.0.3")).toMatchObject({ via: "MachineService.ImagePull" });
    const pull = since(n).find((c) => c.method === "/machine.ImageService/Pull")!;
    expect((pull.request as any).image_ref).toBe("docker.io/library/busybox:1.37");
    expect((pull.request as any).containerd).toEqual({ driver: "CRI", namespace: "NS_CRI" });
    expect(sim.cluster.find("10.5.0.3")!.images).toContain("docker.io/library/busybox:1.37");
  });

  test("a missing image is the node's error", async () => {
    const r = failed(
      await h.call("talos_image_pull", { nodes: ["10.5.0.2"], image: "example.com/does-not-exist:1", confirm: true }),
    );
    expect(entry(r, "10.5.0.2").code).toBe("NOT_FOUND");
  });

  test("annotations say it changes nodes", async () => {
    const t = (await h.client.listTools()).tools.find((x) => x.name === "talos_image_pull")!;
    expect(t.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
  });
});
