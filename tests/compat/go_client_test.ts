/**
 * @module The simulator checked by a real Talos client: for each API the simulator serves that the
 * Go talos-mcp exposes, the Go client (Talos' own machinery client and validator) must decode the
 * same facts talos-mcp shows. A new simulated API gets a new entry in CASES.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { toWire } from "../../lib/sim/handlers/cosi.ts";
import { DEFINITIONS } from "../../lib/sim/definitions.ts";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { maskText } from "../../lib/secrets.ts";
import { entry, type Harness, inMemoryHarness, ok } from "../harness.ts";
import { type GoClient, goClientAvailability, startGoClient } from "./go_client.ts";

interface Ctx {
  sim: Sim;
  go: GoClient;
  ours: Harness;
}

const CP = "10.5.0.2";
const WORKER = "10.5.0.5";

/** Proto3 cannot tell an absent field from a zero one: compare without zero values. */
function nonZero(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? v.map(nonZero) : undefined;
  if (v && typeof v === "object") {
    const out = Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, nonZero(x)]).filter(([, x]) => x !== undefined),
    );
    return Object.keys(out).length ? out : undefined;
  }
  return v === "" || v === 0 || v === false || v === null ? undefined : v;
}

/** Spec fields Talos keeps out of proto_spec, so no Go client sees them from a real node either. */
const YAML_ONLY: Record<string, string[]> = { "Disks.block.talos.dev": ["pretty_size"] };

/** Go's os.FileMode bits (as the Go server prints them, octal) for an `ls -l` mode string. */
function goFileMode(mode: string): string {
  let bits = 0;
  for (let i = 1; i < 10; i++) if (mode[i] !== "-") bits |= 1 << (9 - i);
  if (mode[0] === "d") bits += 2 ** 31;
  if (mode[0] === "l") bits += 2 ** 27;
  return bits.toString(8).padStart(4, "0");
}

interface Case {
  name: string;
  /** Started in beforeAll, for Go calls that take a while (talos_events listens for 5 s). */
  start?: (c: Ctx) => Promise<unknown>;
  run: (c: Ctx, started: Promise<unknown>) => Promise<void>;
}

const CASES: Case[] = [
  {
    name: "versions",
    run: async ({ sim, go, ours }) => {
      for (const n of sim.cluster.nodes) {
        const [msg] = (await go.call("talos_version", { nodes: [n.ip] })).messages;
        const mine = entry(ok(await ours.call("talos_version", { nodes: [n.ip] })), n.ip);
        expect(msg.version).toEqual({
          tag: mine.tag,
          sha: mine.sha,
          go_version: mine.go_version,
          os: mine.os,
          arch: mine.arch,
        });
        expect(msg.platform).toEqual({ name: mine.platform, mode: mine.platform_mode });
      }
    },
  },
  {
    name: "services",
    run: async ({ go, ours }) => {
      for (const node of [CP, WORKER]) {
        const [msg] = (await go.call("talos_services", { nodes: [node] })).messages;
        const mine = entry(ok(await ours.call("talos_services", { nodes: [node] })), node).services;
        const health = (h: { healthy?: boolean; unknown?: boolean }) =>
          h.unknown ? "unknown" : h.healthy ? "healthy" : "unhealthy";
        expect(msg.services.map((s: any) => ({ id: s.id, state: s.state, health: health(s.health) })))
          .toEqual(mine.map((s: any) => ({ id: s.id, state: s.state, health: s.health })));
      }
    },
  },
  {
    name: "MachineStatus: running and ready, as talos-mcp shows it",
    run: async ({ go, ours }) => {
      for (const node of [CP, WORKER]) {
        const [g] = (await go.call("talos_get", { resource_type: "MachineStatus", nodes: [node] })).items;
        const mine = entry(ok(await ours.call("talos_get", { resource_type: "MachineStatus", nodes: [node] })), node);
        expect(g.spec.stage).toBe("running");
        expect(g.spec.status.ready).toBe(true);
        expect(nonZero(g.spec)).toEqual(nonZero(mine.resources[0].spec));
      }
    },
  },
  {
    name: "every served resource type: the Go client's spec equals the YAML talos-mcp reads",
    run: async ({ sim, go }) => {
      for (const n of [sim.cluster.find(CP)!, sim.cluster.find(WORKER)!]) {
        const served = new Set(sim.cluster.resources(n).map((r) => r.type));
        for (const d of DEFINITIONS.filter((d) => served.has(d.type))) {
          const items = (await go.call("talos_get", { resource_type: d.type, nodes: [n.ip] })).items;
          const mine = sim.cluster.resources(n).filter((r) => r.type === d.type);
          expect({ type: d.type, ids: items.map((i: any) => i.metadata.id) })
            .toEqual({ type: d.type, ids: mine.map((r) => r.id) });
          mine.forEach((r, i) => {
            const yaml = parse(toWire(r).spec.yaml_spec);
            const spec = items[i].spec;
            for (const k of YAML_ONLY[d.type] ?? []) {
              delete yaml[k];
              delete spec[k];
            }
            if (d.type === "ResourceDefinitions.meta.cosi.dev") delete spec.printColumns; // none defined
            expect({ type: d.type, id: r.id, spec: nonZero(spec) })
              .toEqual({ type: d.type, id: r.id, spec: nonZero(yaml) });
          });
        }
      }
    },
  },
  {
    name: "members",
    run: async ({ sim, go, ours }) => {
      const items = (await go.call("talos_get", { resource_type: "members", nodes: [WORKER] })).items;
      const mine = entry(ok(await ours.call("talos_get", { resource_type: "members", nodes: [WORKER] })), WORKER);
      expect(items.map((i: any) => i.spec.hostname)).toEqual(sim.cluster.nodes.map((n) => n.hostname));
      expect(items.map((i: any) => nonZero(i.spec))).toEqual(mine.resources.map((r: any) => nonZero(r.spec)));
    },
  },
  {
    name: "resource definitions",
    run: async ({ go, ours }) => {
      const theirs = (await go.call("talos_resource_definitions")).items;
      const mine = ok(await ours.call("talos_resource_definitions", {})).definitions;
      const byType = (xs: any[]) => Object.fromEntries(xs.map((x) => [x.type, x]));
      const g = byType(theirs);
      expect(Object.keys(g).sort()).toEqual(mine.map((d: any) => d.type).sort());
      for (const d of mine) {
        expect({ type: d.type, ns: g[d.type].default_namespace }).toEqual({ type: d.type, ns: d.namespace });
        for (const a of g[d.type].aliases) expect(d.aliases).toContain(a);
      }
    },
  },
  {
    name: "etcd members and status",
    run: async ({ sim, go, ours }) => {
      // The Go server prints uint64 ids through a float64, so they match to double precision only.
      const id = (decimal: string) => Number(BigInt(decimal));
      const idOf = (hex: string) => Number(BigInt(`0x${hex}`));
      const [m] = (await go.call("talos_etcd", { subcommand: "members", nodes: [CP] })).messages;
      const mine = entry(ok(await ours.call("talos_etcd", { subcommand: "members", nodes: [CP] })), CP).members;
      expect(m.members.map((x: any) => ({ ...x, id: id(x.id) }))).toEqual(
        mine.map((x: any) => ({ ...x, id: idOf(x.id) })),
      );
      expect(mine).toHaveLength(sim.cluster.controlPlanes().length);
      for (const cp of sim.cluster.controlPlanes()) {
        const [s] = (await go.call("talos_etcd", { subcommand: "status", nodes: [cp.ip] })).messages;
        const st = entry(ok(await ours.call("talos_etcd", { subcommand: "status", nodes: [cp.ip] })), cp.ip).status;
        const ms = s.member_status;
        expect({
          member_id: id(ms.member_id),
          leader: id(ms.leader),
          version: ms.protocol_version,
          storage_version: ms.storage_version,
          db_size: ms.db_size,
          db_size_in_use: ms.db_size_in_use,
          raft_index: ms.raft_index,
          raft_term: ms.raft_term,
          raft_applied_index: ms.raft_applied_index,
        }).toEqual({
          member_id: idOf(st.member_id),
          leader: idOf(st.leader),
          version: st.version,
          storage_version: st.storage_version,
          db_size: st.db_size,
          db_size_in_use: st.db_size_in_use,
          raft_index: st.raft_index,
          raft_term: st.raft_term,
          raft_applied_index: st.raft_applied_index,
        });
      }
    },
  },
  {
    name: "logs",
    run: async ({ go, ours }) => {
      for (const service of ["kubelet", "etcd", "apid"]) {
        const r = await go.raw("talos_logs", { service_name: service, tail_lines: 20, nodes: [CP] });
        expect(r.isError).toBeFalsy();
        // The Go server prints each ≤1 KiB chunk on its own line, so line breaks differ; the bytes do not.
        const theirs = (r.content[0] as { text: string }).text.replace(/\n/g, "");
        const mine: string[] = entry(
          ok(await ours.call("talos_logs", { service_name: service, tail_lines: 20, nodes: [CP] })),
          CP,
        ).lines;
        expect(mine).toHaveLength(20);
        expect(maskText(theirs)).toBe(mine.join(""));
      }
    },
  },
  {
    name: "events",
    start: ({ go }) => go.call("talos_events", { tail_count: 10, nodes: [CP] }),
    run: async ({ ours }, started) => {
      const theirs = ((await started) as { events: Array<{ type_url: string; payload: string }> }).events;
      const mine: string[] = entry(ok(await ours.call("talos_events", { tail_count: 10, nodes: [CP] })), CP).events;
      expect(theirs.length).toBe(mine.length);
      expect(mine.length).toBeGreaterThan(0);
      mine.forEach((line, i) => {
        // talos-mcp's one-line summary, minus its timestamp and its connecting words ("addresses of
        // <host>: …"): every word is in the Go client's decoding of the same event.
        const seen = `${theirs[i].type_url} ${theirs[i].payload}`.toLowerCase();
        const words = line.split(" ").slice(1).join(" ").toLowerCase().match(/[a-z0-9]+/g) ?? [];
        for (const word of words.filter((w) => w !== "of")) {
          expect({ event: line, word, found: seen.includes(word) }).toEqual({ event: line, word, found: true });
        }
      });
    },
  },
  {
    name: "files: listing and contents",
    run: async ({ go, ours }) => {
      const theirs = await go.call("talos_list_files", { path: "/etc", nodes: [CP] });
      const mine = entry(ok(await ours.call("talos_list_files", { path: "/etc", nodes: [CP] })), CP).entries;
      expect(theirs.map((e: any) => ({ name: e.relative_name, size: e.size, mode: e.mode })))
        .toEqual(
          mine.map((e: any, i: number) => ({ name: i === 0 ? "." : e.name, size: e.size, mode: goFileMode(e.mode) })),
        );
      for (const path of ["/etc/os-release", "/etc/hosts"]) {
        const r = await go.raw("talos_read_file", { path, nodes: [CP] });
        const file = entry(ok(await ours.call("talos_read_file", { path, nodes: [CP] })), CP);
        expect((r.content[0] as { text: string }).text).toBe(file.content);
      }
    },
  },
  {
    name: "Talos' validator accepts every generated machine config",
    run: async ({ sim, go }) => {
      for (const n of sim.cluster.nodes) {
        const r = await go.call("talos_validate", { config: n.machineConfig, mode: "metal", strict: true });
        expect({ node: n.hostname, valid: r.valid, errors: r.errors ?? [] })
          .toEqual({ node: n.hostname, valid: true, errors: [] });
      }
    },
  },
  {
    name: "META keys: what either side writes, the other reads (MetaWrite, MetaDelete, MetaKeys' proto_spec)",
    run: async ({ sim, go, ours }) => {
      await go.call("talos_meta", { nodes: [WORKER], action: "write", key: "0x0d", value: "from-go", confirm: true });
      const mine = entry(ok(await ours.call("talos_meta", { nodes: [WORKER], action: "read", key: 13 })), WORKER);
      expect(mine.keys).toEqual([{ key: "0x0d", name: "UserReserved2", value: "from-go" }]);
      ok(await ours.call("talos_meta", { nodes: [WORKER], action: "write", key: 14, value: "from-ts", confirm: true }));
      const theirs = await go.call("talos_meta", { nodes: [WORKER], action: "read", key: "14" });
      expect(theirs.resource.spec).toEqual({ value: "from-ts" });
      await go.call("talos_meta", { nodes: [WORKER], action: "delete", key: "13", confirm: true });
      expect([...sim.cluster.find(WORKER)!.meta.keys()]).toEqual([14]);
    },
  },
  {
    // Last: the worker reboots.
    name: "Reset: the Go client's request and ours carry the same wipe",
    run: async ({ sim, go, ours }) => {
      const args = { nodes: [WORKER], reboot: true, system_labels_to_wipe: ["EPHEMERAL"], confirm: true };
      await go.call("talos_reset", args);
      sim.cluster.find(WORKER)!.rebootingFor = 0; // back at once, with its config (STATE was kept)
      expect(sim.cluster.find(WORKER)!.maintenance).toBeFalsy();
      ok(await ours.call("talos_reset", args));
      // talosctl's machinery sends SYSTEM_DISK with labels, we send ALL (the labels alone decide); the rest agrees.
      const resets = sim.callsTo("Reset");
      expect(resets).toHaveLength(2); // one from each client, or the comparison below proves nothing
      const [theirs, mine] = resets.map((c) => ({ ...(c.request as object), mode: undefined }));
      expect(mine).toEqual(theirs);
    },
  },
];

const availability = goClientAvailability();
if (!availability.run) console.warn(`skipping the Go client compatibility test: ${availability.why}`);

describe.skipIf(!availability.run)("the simulator, read by the Go talos-mcp (Talos' Go client)", () => {
  let ctx: Ctx;
  const started = new Map<Case, Promise<unknown>>();
  beforeAll(async () => {
    const sim = await startSim({ controlPlanes: 3, workers: 1 });
    ctx = { sim, go: undefined as unknown as GoClient, ours: undefined as unknown as Harness };
    ctx.go = await startGoClient(sim);
    ctx.ours = await inMemoryHarness({ simInstance: sim });
    for (const c of CASES) {
      if (!c.start) continue;
      const p = c.start(ctx);
      p.catch(() => {}); // reported by the case that awaits it
      started.set(c, p);
    }
  });
  afterAll(async () => {
    await ctx?.go?.close();
    await ctx?.ours?.close();
    await ctx?.sim.stop();
  });

  for (const c of CASES) test(c.name, () => c.run(ctx, started.get(c) ?? Promise.resolve()), 15_000);
});
