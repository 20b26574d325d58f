/**
 * @module Safety profiles and the policy file through the binary over stdio: what each profile lists and
 * refuses, each rule kind (tools, contexts, nodes by address and by role, config paths judged on the
 * computed change) refusing with its name and sending nothing, reload of a good and a bad file, and a bad
 * file stopping the server at start with its line and path.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { BIN, entry, type Harness, ok, spawnHarness, text } from "../harness.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 2, workers: 1 }); // 10.5.0.2-3 control planes, 10.5.0.4 a worker
});
afterAll(() => sim?.stop());

const audits = (h: Harness) => h.stderr().split("\n").filter((l) => l.startsWith("AUDIT "));

async function listed(h: Harness): Promise<string[]> {
  return (await h.client.listTools()).tools.map((t) => t.name);
}

describe("profiles", () => {
  test("operator lists reboots but no config changes; a refused call is audited with its caller and sends nothing", async () => {
    const h = await spawnHarness({ simInstance: sim, env: { TALOS_MCP_PROFILE: "operator" } });
    try {
      const names = await listed(h);
      expect(names).toContain("talos_reboot");
      expect(names).toContain("talos_service_action");
      expect(names).not.toContain("talos_patch_config");
      expect(names).not.toContain("talos_upgrade");
      expect(names).not.toContain("talos_reset");
      const before = sim.callsTo("ApplyConfiguration").length;
      const r = await h.call("talos_patch_config", {
        nodes: ["10.5.0.4"],
        patch: "machine:\n  network:\n    hostname: w\n",
        dry_run: false,
        confirm: true,
      });
      expect(r.isError).toBe(true);
      expect(text(r)).toBe(
        'talos_patch_config is not available: talos_patch_config needs profile admin, and caller "stdio" has ' +
          "profile operator (from TALOS_MCP_PROFILE / TALOS_MCP_READ_ONLY): reads plus reboots, shutdowns, " +
          "service actions, image pulls, etcd maintenance and local backups (no config changes, upgrades, " +
          "rollbacks, resets or credentials). Nothing was sent.",
      );
      expect(sim.callsTo("ApplyConfiguration").length).toBe(before);
      expect(audits(h).at(-1)).toMatch(
        /^AUDIT timestamp=\S+ caller=stdio tool=talos_patch_config nodes=10\.5\.0\.4 outcome=denied /,
      );
    } finally {
      await h.close();
    }
  });

  test("readonly lists no tool that changes anything; read tools work", async () => {
    const h = await spawnHarness({ simInstance: sim, env: { TALOS_MCP_PROFILE: "readonly" } });
    try {
      const names = await listed(h);
      expect(names).toContain("talos_version");
      for (const n of ["talos_reboot", "talos_image_pull", "talos_kubeconfig", "talos_etcd_snapshot"]) {
        expect(names).not.toContain(n);
      }
      const before = sim.callsTo("Reboot").length;
      expect((await h.call("talos_reboot", { nodes: ["10.5.0.4"], confirm: true })).isError).toBe(true);
      expect(sim.callsTo("Reboot").length).toBe(before);
      expect(entry(ok(await h.call("talos_version", { nodes: ["10.5.0.2"] })), "10.5.0.2").tag).toBe("v1.13.9");
    } finally {
      await h.close();
    }
  });

  test("admin (the default) lists every tool", async () => {
    const h = await spawnHarness({ simInstance: sim, env: { TALOS_MCP_PROFILE: "admin" } });
    try {
      expect(await listed(h)).toContain("talos_reset");
    } finally {
      await h.close();
    }
  });
});

const POLICY = `# the team's policy
tools:
  deny: [talos_reset]
rules:
  - name: reboot-only-workers
    tools: [talos_reboot]
    nodes: [{role: worker}]
  - name: pulls-only-with-operator-context
    tools: [talos_image_pull]
    contexts: [sim-operator]
  - name: protect-secrets
    tools: [talos_patch_config, talos_apply_config]
    deny_config_paths: [machine.security, cluster.secretboxEncryptionSecret]
  - name: listings-only-on-first-node
    tools: [talos_list_files]
    nodes: [10.5.0.2]
  - name: api-server-pinned
    tools: [talos_upgrade_kubernetes]
    deny_config_paths: [cluster.apiServer]
`;

describe("policy file rules", () => {
  let h: Harness;
  let file: string;
  beforeAll(async () => {
    file = join(sim.dir, "policy.yaml");
    writeFileSync(file, POLICY);
    h = await spawnHarness({ simInstance: sim, env: { TALOS_MCP_POLICY: file } });
  });
  afterAll(() => h?.close());

  test("a denied tool is not listed, and calling it names the entry that denies it", async () => {
    expect(await listed(h)).not.toContain("talos_reset");
    const r = await h.call("talos_reset", { nodes: ["10.5.0.4"], confirm: true });
    expect(text(r)).toBe(
      'talos_reset is not available: talos_reset is denied by "talos_reset" in the policy\'s tools (policy.yaml), ' +
        "line 3 (tools.deny[0]). Nothing was sent.",
    );
    expect(sim.callsTo("Reset").length).toBe(0);
  });

  test("role rule: a control plane is refused by name with no Reboot sent; a worker is rebooted", async () => {
    const before = sim.callsTo("Reboot").length;
    const r = await h.call("talos_reboot", { nodes: ["10.5.0.2"], confirm: true });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe(
      'Refused by policy rule "reboot-only-workers" (policy.yaml line 5): talos_reboot may target only role worker; ' +
        "node 10.5.0.2 (a controlplane) is not one of them. Nothing was sent.",
    );
    expect(sim.callsTo("Reboot").length).toBe(before);
    ok(await h.call("talos_reboot", { nodes: ["10.5.0.4"], confirm: true }));
    expect(sim.callsTo("Reboot").length).toBe(before + 1);
  });

  test("context rule: refused in another context with nothing sent, allowed in its own", async () => {
    const before = sim.callsTo("machine.ImageService/Pull").length;
    const r = await h.call("talos_image_pull", { nodes: ["10.5.0.2"], image: "busybox:1", confirm: true });
    expect(text(r)).toBe(
      'Refused by policy rule "pulls-only-with-operator-context" (policy.yaml line 8): talos_image_pull may use ' +
        'only the contexts sim-operator, not "sim". Nothing was sent.',
    );
    expect(sim.callsTo("machine.ImageService/Pull").length).toBe(before);
    ok(
      await h.call("talos_image_pull", {
        nodes: ["10.5.0.2"],
        image: "busybox:1",
        confirm: true,
        context: "sim-operator",
      }),
    );
    expect(sim.callsTo("machine.ImageService/Pull").length).toBe(before + 1);
  });

  test("address rule: a node outside it gets no call at all", async () => {
    const n = sim.calls.length;
    const r = await h.call("talos_list_files", { nodes: ["10.5.0.3"], path: "/var/log" });
    expect(text(r)).toContain('Refused by policy rule "listings-only-on-first-node" (policy.yaml line 14)');
    expect(sim.calls.slice(n).filter((c) => c.node[0] === "10.5.0.3")).toEqual([]);
    ok(await h.call("talos_list_files", { nodes: ["10.5.0.2"], path: "/var/log" }));
  });

  test("config paths: judged on the change, whatever the patch's spelling; other changes pass", async () => {
    const before = sim.callsTo("ApplyConfiguration").length;
    for (
      const patch of [
        "cluster:\n  secretboxEncryptionSecret: AAAA\n",
        "cluster:\n  $patch: delete\n",
        "machine:\n  security:\n    lockdown: true\n",
      ]
    ) {
      const r = await h.call("talos_patch_config", { nodes: ["10.5.0.3"], patch });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain(
        'Refused by policy rule "protect-secrets" (policy.yaml line 11): talos_patch_config would change',
      );
      expect(text(r)).toContain("Nothing was sent.");
    }
    expect(sim.callsTo("ApplyConfiguration").length).toBe(before); // not even a dry run
    const r = ok(
      await h.call("talos_patch_config", { nodes: ["10.5.0.3"], patch: "machine:\n  network:\n    hostname: c3\n" }),
    );
    expect(entry(r, "10.5.0.3")).toMatchObject({ changed: true });
    expect(sim.callsTo("ApplyConfiguration").length).toBe(before + 1);
  });

  test("config paths hold for the Kubernetes upgrade too: an API server image change is refused, a kubelet one not", async () => {
    const before = sim.callsTo("ApplyConfiguration").length;
    const r = await h.call("talos_upgrade_kubernetes", { nodes: ["10.5.0.2"], version: "v1.35.0" });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('Refused by policy rule "api-server-pinned"');
    expect(text(r)).toContain("talos_upgrade_kubernetes would change cluster.apiServer");
    expect(sim.callsTo("ApplyConfiguration").length).toBe(before); // not even its dry run
    // The worker was rebooted above: the simulator has it back after a bounded number of refused calls.
    for (let i = 0; i < 5 && (await h.call("talos_version", { nodes: ["10.5.0.4"] })).isError; i++);
    ok(await h.call("talos_upgrade_kubernetes", { nodes: ["10.5.0.4"], version: "v1.34.2" }));
  });

  test("reload: a good file applies at once; a bad one is refused with its line and the old policy stays", async () => {
    const mark = h.logs().length;
    writeFileSync(file, `tools:\n  deny: [talos_reset, talos_reboot]\n`);
    expect(await h.untilLog((l) => l.includes("policy reloaded from"), mark)).toContain(
      `policy reloaded from ${file} (file changed)`,
    );
    let names = await listed(h);
    expect(names).not.toContain("talos_reboot");
    expect(names).toContain("talos_image_pull"); // the old rules are gone with the old file

    const mark2 = h.logs().length;
    writeFileSync(
      file,
      `tools:\n  deny: [talos_reset]\nrules:\n  - name: x\n    tools: [talos_nope]\n    contexts: [a]\n`,
    );
    const refused = await h.untilLog((l) => l.includes("policy file refused"), mark2);
    expect(refused).toContain('policy.yaml:5: rules[0].tools[0]: "talos_nope" matches no tool');
    names = await listed(h);
    expect(names).not.toContain("talos_reboot"); // still the previous, good policy
    expect(names).not.toContain("talos_reset");
  });
});

test("a bad policy file stops the server at start, with every problem's line and path", () => {
  const file = join(sim.dir, "bad-policy.yaml");
  writeFileSync(file, "profile: root\nrules:\n  - name: a\n    tools: [talos_reboot]\n    nodes: [{role: master}]\n");
  const r = spawnSync(BIN, [], {
    env: { PATH: process.env.PATH ?? "", HOME: sim.dir, TALOSCONFIG: sim.talosconfig, TALOS_MCP_POLICY: file },
    input: "",
    encoding: "utf8",
    timeout: 20_000,
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toBe(
    `talos-mcp: policy file ${file} is invalid:\n` +
      '  bad-policy.yaml:1: profile: "root" is not a profile; use one of readonly, operator, admin\n' +
      '  bad-policy.yaml:5: rules[0].nodes[0].role: "master" is not a role; use worker or controlplane\n',
  );
});
