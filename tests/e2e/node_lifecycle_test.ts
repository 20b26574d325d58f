/**
 * @module The node lifecycle tools through the compiled binary: a new cluster bootstrapped once, a
 * fresh node in maintenance mode reached without verification (pinned) and given its config, whole
 * configs from local files checked for their cluster, shutdown, reset, META. Every refusal is checked
 * for what it must not do: send the RPC.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ElicitRequest } from "@modelcontextprotocol/sdk/types.js";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { MaintenanceEndpoint } from "../../lib/sim/maintenance.ts";
import { entry, failed, type Harness, ok, spawnHarness, text } from "../harness.ts";

const CP = "10.5.0.2";
const CP2 = "10.5.0.3";
const CP3 = "10.5.0.4";
const W = "10.5.0.5";
const FRESH = "10.5.0.6"; // boots from the ISO: maintenance mode
const LOOPBACK = "127.0.0.1"; // where the simulated fresh node listens
const DIR = mkdtempSync(join(tmpdir(), "talos-mcp-lifecycle-"));
const ENV = {
  TALOS_MCP_POLL_INTERVAL_MS: "10",
  TALOS_MCP_ENABLE_INSECURE: "true",
  TALOS_MCP_INSECURE_ALLOWED_NODES: `${LOOPBACK},10.5.0.0/24`,
  TALOS_MCP_META_PRIVILEGED_KEYS: "0x0f",
};

let h: Harness;
let fresh: MaintenanceEndpoint;
const asked: ElicitRequest[] = [];

beforeAll(async () => {
  h = await spawnHarness({
    sim: { controlPlanes: 3, workers: 1, maintenanceNodes: 1, etcdBootstrapped: false },
    env: ENV,
    elicit: (req) => {
      asked.push(req);
      return { action: "accept", content: {} };
    },
  });
  fresh = await h.sim.maintenance(FRESH);
});
afterAll(async () => {
  await h?.close();
  rmSync(DIR, { recursive: true, force: true });
});

/** Calls to `method` (short name) the simulator received while `fn` ran. */
async function sent(method: string, fn: () => Promise<unknown>) {
  const mark = h.sim.calls.length;
  await fn();
  return h.sim.calls.slice(mark).filter((c) => c.method.endsWith(`/${method}`));
}
/** Every call the simulator received while `fn` ran, by short method name, Hostname lookups left out. */
async function allSent(fn: () => Promise<unknown>) {
  const mark = h.sim.calls.length;
  await fn();
  return h.sim.calls.slice(mark).map((c) => c.method.split("/")[2]).filter((m) => m !== "Hostname");
}
const audits = () => h.stderr().split("\n").filter((l) => l.startsWith("AUDIT "));
/** A config file in DIR: `node`'s current config, edited by `edit`. */
function configFile(name: string, from: string, edit: (v1: any, docs: any[]) => void = () => {}): string {
  const docs = h.sim.cluster.find(from)!.machineConfig.split("---\n").map((d) => parse(d));
  edit(docs[0], docs);
  const path = join(DIR, name);
  writeFileSync(path, docs.map((d) => stringify(d)).join("---\n"));
  return path;
}
const insecure = (extra: Record<string, unknown> = {}) => ({
  nodes: [LOOPBACK],
  insecure: true,
  endpoint: `${LOOPBACK}:${fresh.port}`,
  ...extra,
});

describe("talos_bootstrap", () => {
  test("refuses a worker without sending Bootstrap", async () => {
    let r: any;
    expect(
      await sent("Bootstrap", async () => {
        r = await h.call("talos_bootstrap", { nodes: [W], confirm: true });
      }),
    ).toEqual([]);
    expect(text(r)).toContain(`Refused: ${W} is not a control-plane node`);
  });

  test("bootstraps etcd once on one control plane; etcd then runs on every control plane", async () => {
    const calls = await sent("Bootstrap", async () => {
      const e = entry(ok(await h.call("talos_bootstrap", { nodes: [CP], confirm: true })), CP);
      expect(e.bootstrapped).toBe(true);
      expect(e.next).toContain("talos_health");
    });
    expect(calls.map((c) => c.node)).toEqual([[CP]]);
    for (const n of h.sim.cluster.controlPlanes()) {
      expect(n.services.find((s) => s.id === "etcd")!.state).toBe("Running");
    }
  });

  test("a second bootstrap, on another control plane, is refused naming the members: no Bootstrap sent", async () => {
    let r: any;
    expect(
      await sent("Bootstrap", async () => {
        r = await h.call("talos_bootstrap", { nodes: [CP2], confirm: true });
      }),
    ).toEqual([]);
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(
      `Refused: etcd already runs on ${CP}, ${CP2}, ${CP3} (members: sim-cp-1, sim-cp-2, sim-cp-3)`,
    );
    expect(audits().at(-1)).toContain("tool=talos_bootstrap nodes=10.5.0.3 outcome=denied");
  });

  test("two nodes at once are refused before anything is read", async () => {
    expect(await allSent(() => h.call("talos_bootstrap", { nodes: [CP, CP2], confirm: true }))).toEqual([]);
  });
});

describe("maintenance mode (insecure)", () => {
  test("the node's certificate is reported, so the next call can pin it", async () => {
    const r = ok(await h.call("talos_version", insecure()));
    expect(entry(r, LOOPBACK)).toMatchObject({ tag: "v1.13.9", cert_fingerprint: fresh.fingerprint });
    const [call] = h.sim.callsTo("Version").slice(-1);
    expect(call.insecure).toBe(true);
  });

  test("a pinned fingerprint that matches works; with colons and upper case too", async () => {
    const pin = fresh.fingerprint.toUpperCase().match(/../g)!.join(":");
    const r = ok(await h.call("talos_disks", insecure({ cert_fingerprint: pin })));
    expect(entry(r, LOOPBACK).disks[0]).toMatchObject({ device: "/dev/sda", system_disk: true });
  });

  test("a fingerprint mismatch refuses: the node receives nothing", async () => {
    let r: any;
    const calls = await allSent(async () => {
      r = await h.call("talos_version", insecure({ cert_fingerprint: "ab".repeat(32) }));
    });
    expect(calls).toEqual([]);
    const e = entry(failed(r), LOOPBACK);
    expect(e.code).toBe("FINGERPRINT_MISMATCH");
    expect(e.error).toContain(
      `presented a certificate with SHA-256 ${fresh.fingerprint}, not the pinned ${"ab".repeat(32)}`,
    );
    expect(e.cert_fingerprint).toBe(fresh.fingerprint);
  });

  test("a node outside TALOS_MCP_INSECURE_ALLOWED_NODES is refused before any connection", async () => {
    // The fresh node really listens (its calls are recorded), but this server's allowlist leaves it out.
    const narrow = await spawnHarness({
      simInstance: h.sim,
      env: { ...ENV, TALOS_MCP_INSECURE_ALLOWED_NODES: "10.5.0.0/24" },
    });
    try {
      let r: any;
      expect(
        await allSent(async () => {
          r = await narrow.call("talos_version", insecure());
        }),
      ).toEqual([]);
      expect(r.isError).toBe(true);
      expect(text(r)).toContain(`Node ${LOOPBACK} is not in TALOS_MCP_INSECURE_ALLOWED_NODES`);
      // The same call through the server that allows it does reach the node: the check above can fail.
      expect(await allSent(async () => ok(await h.call("talos_version", insecure())))).not.toEqual([]);
    } finally {
      await narrow.close();
    }
  });

  test("talos_get reads non-sensitive resources; the maintenance API serves nothing else", async () => {
    const r = ok(await h.call("talos_get", insecure({ resource_type: "disks" })));
    expect(r.type).toBe("Disks.block.talos.dev");
    expect(entry(r, LOOPBACK).resources.map((x: { id: string }) => x.id)).toEqual(["sda"]);
  });

  test("endpoint without insecure is refused: configured nodes are always verified", async () => {
    const r = await h.call("talos_version", { nodes: [CP], endpoint: `${LOOPBACK}:${fresh.port}` });
    expect(text(r)).toContain("endpoint and cert_fingerprint go only with insecure: true");
  });

  test("the normal client refuses the unverified maintenance listener", async () => {
    const cfg = parse(require("node:fs").readFileSync(h.sim.talosconfig, "utf8"));
    for (const c of Object.values(cfg.contexts) as Array<{ endpoints: string[] }>) {
      c.endpoints = [`${LOOPBACK}:${fresh.port}`];
    }
    const path = join(DIR, "talosconfig-to-maintenance");
    writeFileSync(path, stringify(cfg), { mode: 0o600 });
    const other = await spawnHarness({
      simInstance: h.sim,
      env: { ...ENV, TALOSCONFIG: path, TALOS_MCP_WARMUP: "false" },
    });
    try {
      let r: any;
      expect(
        await allSent(async () => {
          r = await other.call("talos_version", { nodes: [FRESH] });
        }),
      ).toEqual([]);
      expect(failed(r).nodes[0].code).toBe("TLS");
    } finally {
      await other.close();
    }
  });

  test("a fresh node: dry run, then applied; it joins and answers through the talosconfig", async () => {
    const file = configFile("fresh.yaml", W, (_v1, docs) => (docs[1].hostname = "sim-worker-2"));
    const dry = ok(await h.call("talos_apply_config", insecure({ config_file: file })));
    expect(entry(dry, LOOPBACK).details).toContain("maintenance mode and does not have a config yet");
    expect(h.sim.cluster.find(FRESH)!.maintenance).toBe(true);
    h.sim.cluster.rebootCalls = 0; // boots at once: the next call finds it joined
    try {
      const r = ok(await h.call("talos_apply_config", insecure({ config_file: file, dry_run: false, confirm: true })));
      expect(entry(r, LOOPBACK)).toMatchObject({ applied: true, cert_fingerprint: fresh.fingerprint });
      expect(entry(r, LOOPBACK).next).toContain("joins its cluster");
      const apply = h.sim.callsTo("ApplyConfiguration").at(-1)!;
      expect(apply).toMatchObject({ insecure: true, request: { mode: "AUTO", dry_run: false } });
      const v = ok(await h.call("talos_version", { nodes: [FRESH] }));
      expect(entry(v, FRESH).hostname).toBe("sim-worker-2");
    } finally {
      h.sim.cluster.rebootCalls = 2;
    }
    // The consent question named the file and what the node does with it.
    expect(asked.at(-1)!.params.message).toContain(`apply the whole machine config in ${file} (mode auto)`);
  });
});

describe("talos_apply_config", () => {
  test("dry run (the default) sends the file's bytes with an explicit mode and returns the masked diff", async () => {
    const file = configFile("w.yaml", W, (v1) => (v1.machine.kubelet.image = "ghcr.io/siderolabs/kubelet:v1.34.2"));
    const before = h.sim.cluster.find(W)!.machineConfig;
    const calls = await sent("ApplyConfiguration", async () => {
      const r = ok(await h.call("talos_apply_config", { nodes: [W], config_file: file }));
      expect(r.file).toMatchObject({ path: file });
      expect(r.file.sha256).toMatch(/^[0-9a-f]{64}$/);
      const e = entry(r, W);
      expect(e).toMatchObject({ applied: false, mode: "NO_REBOOT" });
      expect(e.details).toContain("+    image: ghcr.io/siderolabs/kubelet:v1.34.2");
      expect(JSON.stringify(r)).not.toContain(/token: (\S+)/.exec(before)![1]);
    });
    expect(calls.map((c) => c.request)).toMatchObject([{ mode: "AUTO", dry_run: true }]);
    expect(h.sim.cluster.find(W)!.machineConfig).toBe(before);
  });

  test("the file is read once per call: what was checked is what is sent, even if it changes during consent", async () => {
    const file = configFile(
      "w-swap.yaml",
      W,
      (v1) => (v1.machine.kubelet.image = "ghcr.io/siderolabs/kubelet:v1.34.4"),
    );
    const checked = readFileSync(file);
    // While the human is asked, the file is swapped for another cluster's config (the identity check's target).
    const swapping = await spawnHarness({
      simInstance: h.sim,
      env: ENV,
      elicit: () => {
        const other = configFile("other.yaml", W, (v1) => (v1.cluster.id = "c29tZS1vdGhlci1jbHVzdGVy"));
        writeFileSync(file, readFileSync(other));
        return { action: "accept", content: {} };
      },
    });
    try {
      const calls = await sent("ApplyConfiguration", async () => {
        const r = ok(
          await swapping.call("talos_apply_config", {
            nodes: [W],
            config_file: file,
            dry_run: false,
            mode: "no-reboot",
            confirm: true,
          }),
        );
        expect(r.file.sha256).toBe(createHash("sha256").update(checked).digest("hex"));
      });
      expect(calls).toHaveLength(1);
      expect(Buffer.from((calls[0].request as { data: Uint8Array }).data)).toEqual(checked);
      expect(h.sim.cluster.find(W)!.machineConfig).not.toContain("c29tZS1vdGhlci1jbHVzdGVy");
    } finally {
      await swapping.close();
    }
  });

  test("applies with dry_run=false and confirm", async () => {
    const file = configFile("w2.yaml", W, (v1) => (v1.machine.kubelet.image = "ghcr.io/siderolabs/kubelet:v1.34.3"));
    const r = ok(
      await h.call("talos_apply_config", {
        nodes: [W],
        config_file: file,
        dry_run: false,
        mode: "no-reboot",
        confirm: true,
      }),
    );
    expect(entry(r, W)).toMatchObject({ applied: true, mode: "NO_REBOOT", next: "applied without a reboot." });
    expect(h.sim.cluster.find(W)!.machineConfig).toContain("kubelet:v1.34.3");
    expect(audits().at(-1)).toContain(`tool=talos_apply_config nodes=${W} outcome=ok`);
  });

  test("another cluster's config is refused, naming what differs: no ApplyConfiguration, dry run or not", async () => {
    const file = configFile("foreign.yaml", W, (v1) => (v1.cluster.id = "c29tZS1vdGhlci1jbHVzdGVy"));
    for (const args of [{}, { dry_run: false, confirm: true }]) {
      let r: any;
      expect(
        await sent("ApplyConfiguration", async () => {
          r = await h.call("talos_apply_config", { nodes: [W], config_file: file, ...args });
        }),
      ).toEqual([]);
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("belongs to another cluster than node 10.5.0.5's current config: its cluster id");
      expect(text(r)).not.toContain("c29tZS1vdGhlci1jbHVzdGVy");
    }
    const r = ok(await h.call("talos_apply_config", { nodes: [W], config_file: file, replace_cluster_identity: true }));
    expect(entry(r, W).details).toContain("Dry run summary");
  });

  test("bad files are refused before any RPC, without echoing their content", async () => {
    const notYaml = join(DIR, "bad.yaml");
    writeFileSync(notYaml, "machine: [unclosed\n  secret: hunter2\n");
    const noV1 = join(DIR, "patch.yaml");
    writeFileSync(noV1, "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: x\n");
    // A whole config the offline validator rejects: the endpoint is plain http (Talos wants https with a port).
    const invalid = join(DIR, "invalid.yaml");
    writeFileSync(
      invalid,
      h.sim.cluster.find(W)!.machineConfig.replace(/endpoint: https:\/\/[^\n]+/, "endpoint: http://hunter2.example"),
    );
    const cases: Array<[string, string]> = [
      ["relative.yaml", "config_file must be an absolute path"],
      [notYaml, "is not a valid machine config"],
      [invalid, "cluster.controlPlane.endpoint"],
      [noV1, "has no v1alpha1 document"],
      [DIR, "is not a regular file"],
      [join(DIR, "missing.yaml"), "missing.yaml does not exist; check the path"],
    ];
    for (const [path, message] of cases) {
      let r: any;
      expect(
        await allSent(async () => {
          r = await h.call("talos_apply_config", { nodes: [W], config_file: path, dry_run: false, confirm: true });
        }),
      ).toEqual([]);
      expect(text(r)).toContain(message);
      expect(text(r)).not.toContain("hunter2");
    }
  });

  test("a file over 1 MiB is refused", async () => {
    const big = join(DIR, "big.yaml");
    writeFileSync(big, `version: v1alpha1\n# ${"x".repeat(1 << 20)}\n`);
    expect(text(await h.call("talos_apply_config", { nodes: [W], config_file: big }))).toContain(
      "over the 1048576-byte limit",
    );
  });
});

describe("talos_meta", () => {
  test("a reader reads META keys; writing needs os:admin or os:meta:writer, checked before anything is sent", async () => {
    const r = ok(await h.call("talos_meta", { context: "sim-reader", nodes: [W], action: "read" }));
    expect(entry(r, W).keys).toBeArray();
    const writes = await sent("MetaWrite", async () => {
      const w = await h.call("talos_meta", {
        context: "sim-reader",
        nodes: [W],
        action: "write",
        key: "0x0c",
        value: "x",
        confirm: true,
      });
      expect(w.isError).toBe(true);
      expect(text(w)).toContain("needs a certificate with role os:admin or os:meta:writer");
    });
    expect(writes).toEqual([]);
  });

  test("writes a user key (the value never reaches the audit line), reads it back, deletes it", async () => {
    const writes = await sent("MetaWrite", async () => {
      ok(await h.call("talos_meta", { nodes: [W], action: "write", key: "0x0c", value: "rack-7", confirm: true }));
    });
    expect(writes.map((c) => [c.node, c.request])).toEqual([[[W], { key: 12, value: Buffer.from("rack-7") }]]);
    const line = audits().at(-1)!;
    expect(line).toContain("tool=talos_meta");
    expect(line).toContain('"value":"<redacted: 6 bytes>"');
    expect(line).not.toContain("rack-7");
    const read = ok(await h.call("talos_meta", { nodes: [W], action: "read", key: 12 }));
    expect(entry(read, W).keys).toEqual([{ key: "0x0c", name: "UserReserved1", value: "rack-7" }]);
    ok(await h.call("talos_meta", { nodes: [W], action: "delete", key: "12", confirm: true }));
    expect(h.sim.cluster.find(W)!.meta.has(12)).toBe(false);
  });

  test("a Talos key without the privilege is refused: no MetaWrite; a listed one is allowed", async () => {
    let r: any;
    expect(
      await sent("MetaWrite", async () => {
        r = await h.call("talos_meta", { nodes: [W], action: "write", key: "0x0a", value: "{}", confirm: true });
      }),
    ).toEqual([]);
    expect(text(r)).toContain("META key 0x0a (MetalNetworkPlatformConfig) is not a user key");
    expect(text(r)).toContain("TALOS_MCP_META_PRIVILEGED_KEYS");
    expect(audits().at(-1)).toContain("outcome=denied");
    ok(await h.call("talos_meta", { nodes: [W], action: "write", key: 15, value: "uuid", confirm: true }));
    expect(h.sim.cluster.find(W)!.meta.get(15)).toBe("uuid");
  });

  test("bad keys are refused", async () => {
    for (const key of ["256", "0x100", "twelve", -1]) {
      expect(text(await h.call("talos_meta", { nodes: [W], action: "read", key }))).toContain("is not a META key");
    }
  });
});

describe("talos_shutdown", () => {
  test("two of three control planes at once are refused by the quorum guard: no Shutdown", async () => {
    let r: any;
    expect(
      await sent("Shutdown", async () => {
        r = await h.call("talos_shutdown", { nodes: [CP2, CP3], confirm: true });
      }),
    ).toEqual([]);
    expect(text(r)).toContain("would leave etcd with 1 of 3 members healthy");
  });

  test("powers a node off with force; it then stays unreachable", async () => {
    const calls = await sent("Shutdown", async () => {
      const e = entry(ok(await h.call("talos_shutdown", { nodes: [W], force: true, confirm: true })), W);
      expect(e).toMatchObject({ shut_down: true });
      expect(e.next).toContain("stays off until someone powers it on");
    });
    expect(calls.map((c) => c.request)).toEqual([{ force: true }]);
    expect(entry(failed(await h.call("talos_version", { nodes: [W] })), W).code).toBe("UNAVAILABLE");
    h.sim.cluster.find(W)!.poweredOff = false;
  });
});

describe("talos_reset", () => {
  test("without confirm nothing is sent, not even a read", async () => {
    let r: any;
    expect(
      await allSent(async () => {
        r = await h.call("talos_reset", { nodes: [FRESH] });
      }),
    ).toEqual([]);
    expect(text(r)).toContain("needs confirm: true");
  });

  test("two control planes in one call are refused: no Reset", async () => {
    let r: any;
    expect(
      await sent("Reset", async () => {
        r = await h.call("talos_reset", { nodes: [CP2, CP3], confirm: true, system_labels_to_wipe: ["EPHEMERAL"] });
      }),
    ).toEqual([]);
    expect(text(r)).toContain("Refused: talos_reset on 10.5.0.3, 10.5.0.4 would reset several control planes");
  });

  test("wipes the whole disk and reboots: the node is back in maintenance mode; the human was told exactly that", async () => {
    asked.length = 0;
    const calls = await sent("Reset", async () => {
      const e = entry(ok(await h.call("talos_reset", { nodes: [FRESH], reboot: true, confirm: true })), FRESH);
      expect(e.next).toBe(
        "reboots into maintenance mode (no config): give it one with talos_apply_config and insecure: true",
      );
    });
    expect(calls.map((c) => c.request)).toEqual([{
      graceful: true,
      reboot: true,
      system_partitions_to_wipe: [],
      user_disks_to_wipe: [],
      mode: "ALL",
    }]);
    const question = asked[0].params.message as string;
    expect(question).toContain("WIPE the whole system disk");
    expect(question).toContain(`Nodes: ${FRESH}`);
    expect(h.sim.cluster.find(FRESH)!.maintenance).toBe(true);
    // Back in maintenance mode: reachable again only without verification.
    h.sim.cluster.find(FRESH)!.rebootingFor = 0;
    expect(entry(ok(await h.call("talos_version", insecure())), LOOPBACK).tag).toBe("v1.13.9");
  });

  test("only the listed volumes, powered off after: the request carries exactly those labels", async () => {
    const calls = await sent("Reset", async () => {
      const e = entry(
        ok(
          await h.call("talos_reset", {
            nodes: [W],
            system_labels_to_wipe: ["EPHEMERAL", "META"],
            graceful: false,
            confirm: true,
          }),
        ),
        W,
      );
      expect(e.wiped).toBe("the system volumes EPHEMERAL (/var: pods, images, etcd data), META (the META keys)");
      expect(e.next).toContain("powered on, it boots with its config");
    });
    expect(calls[0].request).toMatchObject({
      graceful: false,
      reboot: false,
      system_partitions_to_wipe: [{ label: "EPHEMERAL", wipe: true }, { label: "META", wipe: true }],
    });
    expect(h.sim.cluster.find(W)!.poweredOff).toBe(true);
    expect(h.sim.cluster.find(W)!.maintenance).toBeFalsy();
  });
});

describe("insecure turned off", () => {
  let off: Harness;
  beforeAll(async () => {
    off = await spawnHarness({ simInstance: h.sim, env: { TALOS_MCP_WARMUP: "false" } });
  });
  afterAll(() => off?.close());

  test.each([
    ["talos_version", {}],
    ["talos_apply_config", { config_file: "/etc/hostname", dry_run: false, confirm: true }],
    ["talos_meta", { action: "write", key: 12, value: "x", confirm: true }],
  ])("%s with insecure is refused, naming the settings: nothing sent", async (tool, args) => {
    let r: any;
    expect(
      await allSent(async () => {
        r = await off.call(tool, { ...insecure(), ...args });
      }),
    ).toEqual([]);
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("is for nodes in maintenance mode, which this server does not talk to");
    expect(text(r)).toContain("TALOS_MCP_ENABLE_INSECURE=true");
  });
});
