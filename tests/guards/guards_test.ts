/** @module The pure guard modules, table-driven: confirm contract, audit line, quorum rule, upgrade path. */
import { describe, expect, test } from "bun:test";
import { auditLine, outcomeOf, redactArgs } from "../../lib/guards/audit.ts";
import { confirmRefusal } from "../../lib/guards/confirm.ts";
import { quorumVerdict } from "../../lib/talos/quorum.ts";
import { upgradePathRefusal } from "../../lib/guards/upgrade_path.ts";
import type { EtcdView } from "../../lib/talos/etcd_health.ts";
import { ALL_TOOLS } from "../../lib/tools/mod.ts";

const tool = (name: string) => ALL_TOOLS.find((t) => t.name === name)!;

describe("confirmRefusal", () => {
  test.each([
    [{ nodes: ["n1"], confirm: true }, undefined],
    [{ nodes: ["n1"], confirm: "true" }, "confirm: true"],
    [{ nodes: ["n1"], confirm: 1 }, "confirm: true"],
    [{ nodes: ["n1"] }, "confirm: true"],
    [{ nodes: [], confirm: true }, "explicit nodes"],
    [{ confirm: true }, "explicit nodes"],
    [{ nodes: "n1", confirm: true }, "explicit nodes"],
  ])("talos_reboot %j → %p", (raw, want) => {
    const got = confirmRefusal(tool("talos_reboot"), raw as Record<string, unknown>);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(want);
  });

  test("a patch dry run needs no confirm, applying does", () => {
    const t = tool("talos_patch_config");
    expect(confirmRefusal(t, { nodes: ["n1"], patch: "x" })).toBeUndefined();
    expect(confirmRefusal(t, { nodes: ["n1"], patch: "x", dry_run: false })).toContain("confirm: true");
    expect(confirmRefusal(t, { nodes: ["n1"], patch: "x", dry_run: false, confirm: true })).toBeUndefined();
  });

  test("read-only tools are never asked", () => {
    expect(confirmRefusal(tool("talos_version"), {})).toBeUndefined();
  });
});

describe("audit", () => {
  const at = new Date("2026-11-22T01:02:03.456Z");
  test("line format, patch redacted, secrets masked", () => {
    const line = auditLine({
      caller: "stdio",
      tool: "talos_patch_config",
      nodes: ["10.5.0.2", "10.5.0.3"],
      outcome: "ok",
      args: {
        nodes: ["10.5.0.2", "10.5.0.3"],
        patch: "machine:\n  token: abc\n",
        token: "hunter2hunter2",
        confirm: true,
      },
      showSecrets: false,
      at,
    });
    expect(line).toBe(
      `AUDIT timestamp=2026-11-22T01:02:03.456Z caller=stdio tool=talos_patch_config nodes=10.5.0.2,10.5.0.3 outcome=ok ` +
        `args={"nodes":["10.5.0.2","10.5.0.3"],"patch":"<redacted: 22 bytes>","token":"<masked: token>","confirm":true}`,
    );
    expect(line).not.toContain("\n");
  });

  test("no nodes → '-'; patch redacted even with secrets shown", () => {
    expect(
      auditLine({
        caller: "alice",
        tool: "t",
        nodes: [],
        outcome: "denied",
        args: { patch: "x" },
        showSecrets: true,
        at,
      }),
    )
      .toBe(
        `AUDIT timestamp=2026-11-22T01:02:03.456Z caller=alice tool=t nodes=- outcome=denied args={"patch":"<redacted: 1 bytes>"}`,
      );
    expect(redactArgs({ password: "p4ssw0rd!" }, true)).toEqual({ password: "p4ssw0rd!" });
  });

  test("raw nodes of a refused call cannot forge a second audit line", () => {
    const forged = "10.5.0.2\nAUDIT timestamp=2026-01-01T00:00:00Z tool=talos_reboot nodes=x outcome=ok args={}";
    const line = auditLine({
      caller: "mallory\nAUDIT x",
      tool: "talos_reboot",
      nodes: [forged, "a,b", "x".repeat(1000)],
      outcome: "denied",
      args: { nodes: [forged] },
      showSecrets: false,
      at,
    });
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toStartWith(
      "AUDIT timestamp=2026-11-22T01:02:03.456Z caller=mallory?AUDIT?x tool=talos_reboot nodes=10.5.0.2?AUDIT?timestamp=2026-01-01T00:00:00Z?",
    );
    expect(line).toContain(`,a?b,${"x".repeat(253)}... outcome=denied args=`);
  });

  test.each([
    [{ nodes: [{ node: "a" }, { node: "b" }] }, "ok"],
    [{ nodes: [{ node: "a" }, { node: "b", error: "down" }] }, "error"],
    [{ type: "x" }, "ok"],
  ])("outcomeOf %j = %s", (value, want) => expect(outcomeOf(value)).toBe(want as never));
});

describe("quorumVerdict", () => {
  const members = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: String(i + 1), hostname: `cp-${i + 1}`, host: `10.0.0.${i + 1}` }));
  const view = (n: number, healthy: number[]): EtcdView => ({
    members: members(n),
    healthy: new Set(healthy.map(String)),
    targetIds: new Map([["alias-of-cp-2", "2"]]),
  });

  test.each(
    [
      // [members, healthy ids, targets, impact, verdict]
      [3, [1, 2, 3], ["10.0.0.1"], "together", "safe"],
      [3, [1, 2, 3], ["10.0.0.1", "10.0.0.2"], "together", "refused"], // one at a time would keep quorum
      [3, [1, 2, 3], ["10.0.0.1", "10.0.0.2"], "one-by-one", "safe"],
      [3, [1, 2], ["10.0.0.1"], "together", "refused"],
      [3, [1, 2], ["10.0.0.3"], "together", "safe"], // the down member itself
      [3, [1, 2], ["worker-1"], "together", "safe"], // not a member
      [3, [1, 2], ["alias-of-cp-2"], "together", "refused"], // known by the member id it reported
      [5, [1, 2, 3, 4, 5], ["cp-1", "cp-2"], "together", "safe"],
      [5, [1, 2, 3, 4], ["cp-1", "cp-2"], "together", "refused"],
      [1, [1], ["10.0.0.1"], "together", "outage"], // a single control plane cannot avoid it
      [1, [1], ["10.0.0.1"], "one-by-one", "outage"],
      [2, [1, 2], ["10.0.0.1"], "together", "outage"], // two members: either one down is an outage
      [2, [1, 2], ["10.0.0.1", "10.0.0.2"], "together", "outage"], // one at a time would not avoid it
      [2, [1], ["10.0.0.1"], "together", "refused"], // the other is already down: wait for it
      [1, [], ["10.0.0.1"], "together", "safe"], // already down: nothing more is lost
      [3, [1], ["10.0.0.1"], "together", "refused"], // already without quorum: not the last healthy one
      [3, [1], ["10.0.0.2"], "together", "safe"], // an unhealthy member: rebooting it costs nothing
    ] as const,
  )("%d members, healthy %j, taking %j %s → %s", (n, healthy, targets, impact, kind) => {
    expect(quorumVerdict(view(n, [...healthy]), targets, impact, "rebooting", "prod").kind).toBe(kind);
  });

  test("the refusal says what is down and what to do, and that waiting can help", () => {
    const r = quorumVerdict(view(3, [1, 2]), ["10.0.0.1"], "together", "rebooting", "prod");
    expect(r).toEqual({
      kind: "refused",
      refusal: "Refused: rebooting cp-1 (10.0.0.1) would leave etcd with 1 of 3 members healthy; quorum needs 2. " +
        "Unhealthy now: cp-3 (10.0.0.3). Bring the unhealthy members back first and check etcd health, then retry. " +
        "Nothing was changed.",
      waitCanHelp: true,
    });
  });

  test("several healthy control planes at once: refused, and waiting would not help", () => {
    const r = quorumVerdict(view(3, [1, 2, 3]), ["cp-1", "cp-2"], "together", "rebooting", "prod");
    expect(r.kind === "refused" && r.refusal).toContain("Act on one control-plane node at a time");
    expect(r.kind === "refused" && r.waitCanHelp).toBe(false);
  });

  test("the outage a one-member etcd cannot avoid is said plainly", () => {
    expect(quorumVerdict(view(1, [1]), ["10.0.0.1"], "together", "rebooting", "prod")).toEqual({
      kind: "outage",
      outage: 'etcd and the Kubernetes API of cluster "prod" are unavailable until cp-1 (10.0.0.1) is back: ' +
        "etcd has 1 member, so it cannot keep quorum without it.",
    });
  });
});

describe("upgradePathRefusal", () => {
  test.each([
    [{ a: "v1.12.4" }, "ghcr.io/siderolabs/installer:v1.13.9", false],
    [{ a: "v1.12.4", b: "v1.13.9" }, "ghcr.io/siderolabs/installer:v1.13.9", false],
    [{ a: "v1.12.4", b: "v1.13.9" }, "ghcr.io/siderolabs/installer:v1.14.0", true],
    [{ a: "v1.11.0" }, "ghcr.io/siderolabs/installer:latest", false],
    [{ a: "v1.11.0" }, "factory.talos.dev/installer/abc@sha256:0123", false],
  ])("%j → %s: refused %p", (versions, image, refused) => {
    const r = upgradePathRefusal(new Map(Object.entries(versions)), image);
    expect(r !== undefined).toBe(refused);
  });

  test("names the node and the path", () => {
    const r = upgradePathRefusal(new Map([["10.5.0.2", "v1.11.6"]]), "ghcr.io/siderolabs/installer:v1.14.1")!;
    expect(r).toContain("10.5.0.2 (v1.11.6): v1.11 → v1.14 skips 2 minor version(s)");
    expect(r).toContain("v1.12.x (latest patch) → v1.13.x (latest patch) → v1.14.1");
  });
});
