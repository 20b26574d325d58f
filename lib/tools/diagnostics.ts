/** @module Node diagnostics: talos_stats, talos_mounts, talos_disks — derived numbers, not raw dumps. */
import * as v from "valibot";
import { first, loadAvg, memory, mounts, num, systemStat } from "../talos/node_stats.ts";
import type { TalosSession } from "../talos/session.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { certFingerprint, context, insecureArgs, nodes, perNodeOutput } from "./params.ts";
import { insecureTarget, perNode, perNodeOrInsecure } from "./per_node.ts";

const MiB = 1 << 20;
const GiB = 1 << 30;
const SECTOR = 512;

/** Whole disks only: partitions, loop and ram devices repeat or add nothing. */
const WHOLE_DISK = /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;

async function diskIo(s: TalosSession, node: string, signal: AbortSignal) {
  const d = await first({ session: s, node, signal }, "DiskStats");
  return (d?.devices ?? []).filter((x) => WHOLE_DISK.test(x.name)).map((x) => ({
    device: x.name,
    read_mib: Math.round((num(x.read_sectors) * SECTOR) / MiB),
    written_mib: Math.round((num(x.write_sectors) * SECTOR) / MiB),
    io_time_s: Math.round(num(x.io_time_ms) / 1000),
    in_progress: num(x.io_in_progress),
  }));
}

async function netIo(s: TalosSession, node: string, signal: AbortSignal) {
  const d = await first({ session: s, node, signal }, "NetworkDeviceStats");
  return (d?.devices ?? []).filter((x) => x.name !== "lo").map((x) => {
    const errors = num(x.rx_errors) + num(x.tx_errors);
    const dropped = num(x.rx_dropped) + num(x.tx_dropped);
    return {
      device: x.name,
      rx_mib: Math.round(num(x.rx_bytes) / MiB),
      tx_mib: Math.round(num(x.tx_bytes) / MiB),
      ...(errors ? { errors } : {}),
      ...(dropped ? { dropped } : {}),
    };
  });
}

export const statsTool = defineTool({
  name: "talos_stats",
  title: "Node: resource stats",
  description: "CPU, memory, load, disk I/O and network counters per node as derived figures (MiB, %, " +
    "since boot). Use to find a node under pressure; talos_node_summary gives the short version.",
  annotations: READ_ONLY,
  input: { context, nodes },
  output: perNodeOutput({
    uptime_s: v.number(),
    cpus: v.number(),
    cpu_busy_pct_since_boot: v.number(),
    iowait_pct_since_boot: v.number(),
    procs_running: v.number(),
    procs_blocked: v.number(),
    load: v.array(v.number()),
    memory: v.object({
      total_mib: v.number(),
      available_mib: v.number(),
      used_pct: v.number(),
      swap_used_mib: v.optional(v.number()),
    }),
    disks: v.array(v.object({
      device: v.string(),
      read_mib: v.number(),
      written_mib: v.number(),
      io_time_s: v.number(),
      in_progress: v.number(),
    })),
    network: v.array(v.object({
      device: v.string(),
      rx_mib: v.number(),
      tx_mib: v.number(),
      errors: v.optional(v.number()),
      dropped: v.optional(v.number()),
    })),
  }),
  run: (args, ctx) =>
    perNode(ctx, args, async (s, node) => {
      const c = { session: s, node, signal: ctx.signal };
      const [sys, mem, load, disks, network] = await Promise.all([
        systemStat(c),
        memory(c),
        loadAvg(c),
        diskIo(s, node, ctx.signal),
        netIo(s, node, ctx.signal),
      ]);
      const { boot_time: _boot, ...cpu } = sys;
      return { ...cpu, load, memory: mem, disks, network };
    }),
});

export const mountsTool = defineTool({
  name: "talos_mounts",
  title: "Node: mounts",
  description: "Filesystem use per node: size and % used of each mounted block device (bind mounts folded " +
    "in), or every sized mount with all=true. Use when a node reports disk pressure.",
  annotations: READ_ONLY,
  input: {
    context,
    nodes,
    all: v.optional(v.pipe(v.boolean(), v.description("Include tmpfs, overlay and other non-block mounts.")), false),
  },
  output: perNodeOutput({
    mounts: v.array(v.object({
      filesystem: v.string(),
      mounted_on: v.string(),
      size_gib: v.number(),
      used_pct: v.number(),
      also: v.optional(v.array(v.string())),
    })),
  }),
  run: (args, ctx) =>
    perNode(
      ctx,
      args,
      async (s, node) => ({ mounts: await mounts({ session: s, node, signal: ctx.signal }, args.all) }),
    ),
});

export const disksTool = defineTool({
  name: "talos_disks",
  title: "Node: disks",
  description: "Block devices per node: device, size, model, serial, type, and which one holds Talos. " +
    "Use before choosing an install disk (insecure: on a node in maintenance mode) or when storage is missing.",
  annotations: READ_ONLY,
  input: { context, nodes, ...insecureArgs },
  check: (a, config) => void insecureTarget(a, config),
  output: perNodeOutput({
    disks: v.array(v.object({
      device: v.string(),
      size_gib: v.number(),
      model: v.optional(v.string()),
      serial: v.optional(v.string()),
      type: v.string(),
      system_disk: v.optional(v.boolean()),
      readonly: v.optional(v.boolean()),
    })),
    cert_fingerprint: certFingerprint,
  }),
  run: (args, ctx) =>
    perNodeOrInsecure(ctx, args, async (s, node) => {
      const res = await s.api.storage.Disks(
        {},
        { node, signal: ctx.signal },
      );
      return {
        disks: (res.messages?.[0]?.disks ?? []).map((d) => ({
          device: d.device_name || `/dev/${d.name}`,
          size_gib: Math.round((num(d.size) / GiB) * 10) / 10,
          ...(d.model ? { model: d.model } : {}),
          ...(d.serial ? { serial: d.serial } : {}),
          type: d.type,
          ...(d.system_disk ? { system_disk: true } : {}),
          ...(d.readonly ? { readonly: true } : {}),
        })),
      };
    }),
});
