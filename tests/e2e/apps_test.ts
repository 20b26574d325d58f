/**
 * @module The MCP Apps view through the binary, without a browser: the ui:// resource is listed and read with
 * the apps MIME type, the two tools link to it, the HTML is self-contained and small, its allowlist is the
 * dashboard's and holds read-only tools only; and `talos-mcp dashboard`'s access checks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { APP_MIME, CLUSTER_VIEW_HTML, CLUSTER_VIEW_URI, VIEW_TOOLS } from "../../lib/apps/view.ts";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { ALL_TOOLS } from "../../lib/tools/mod.ts";
import { type Harness, spawnHarness } from "../harness.ts";
import { spawnDashboard, type SpawnedDashboard } from "../harness_browser.ts";

const MAX_HTML_BYTES = 150 * 1024;

let sim: Sim;
let h: Harness;
beforeAll(async () => {
  sim = await startSim({ controlPlanes: 1, workers: 1 });
  h = await spawnHarness({ simInstance: sim });
});
afterAll(async () => {
  await h?.close();
  await sim?.stop();
});

describe("cluster view resource", () => {
  test("listed and read as an MCP Apps HTML view, the same bytes the binary embeds", async () => {
    const { resources } = await h.client.listResources();
    expect(resources.find((r) => r.uri === CLUSTER_VIEW_URI)).toMatchObject({
      name: "cluster-view",
      mimeType: "text/html;profile=mcp-app",
    });
    const r = await h.client.readResource({ uri: CLUSTER_VIEW_URI });
    expect(r.contents).toHaveLength(1);
    expect(r.contents[0]).toMatchObject({
      uri: CLUSTER_VIEW_URI,
      mimeType: APP_MIME,
      _meta: { ui: { prefersBorder: false } },
    });
    const html = (r.contents[0] as { text: string }).text;
    expect(html).toBe(CLUSTER_VIEW_HTML);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(new TextEncoder().encode(html).length).toBeLessThanOrEqual(MAX_HTML_BYTES);
  });

  test("talos_node_summary and talos_upgrade_plan link to it, and no other tool does", async () => {
    const { tools } = await h.client.listTools();
    const linked = tools.filter((t) => t._meta?.ui).map((t) => [t.name, t._meta]);
    expect(linked).toEqual(
      ["talos_node_summary", "talos_upgrade_plan"].map((name) => [
        name,
        { ui: { resourceUri: CLUSTER_VIEW_URI }, "ui/resourceUri": CLUSTER_VIEW_URI },
      ]),
    );
  });

  test("self-contained: no network, no external resource, no HTML parsing of data", () => {
    // Hosts give a view without declared domains no network at all; the dashboard's CSP allows only itself.
    expect(CLUSTER_VIEW_HTML).not.toMatch(/\b(src|href)\s*=|<link\b|@import|url\(|https?:\/\//i);
    // Untrusted strings become text nodes: none of the APIs that parse HTML or code from a string is used.
    expect(CLUSTER_VIEW_HTML).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
    );
    expect(CLUSTER_VIEW_HTML.match(/<script\b/g)).toHaveLength(1);
  });

  test("the view's allowlist is the dashboard's, and every tool on it is read-only", () => {
    const inHtml = /const READ_ONLY_TOOLS = (\[[^\]]*\]);/.exec(CLUSTER_VIEW_HTML)?.[1];
    expect(JSON.parse(inHtml ?? "null")).toEqual([...VIEW_TOOLS]);
    for (const name of VIEW_TOOLS) {
      const tool = ALL_TOOLS.find((t) => t.name === name);
      expect(tool?.annotations.readOnlyHint).toBe(true);
      expect(tool?.confirm).toBeUndefined();
    }
  });
});

describe("talos-mcp dashboard", () => {
  let dash: SpawnedDashboard;
  let base: string;
  let token: string;
  beforeAll(async () => {
    dash = await spawnDashboard(sim);
    const u = new URL(dash.url);
    token = u.searchParams.get("token")!;
    base = `${u.origin}/`;
  });
  afterAll(() => dash?.stop());

  const call = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}call`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify(body),
    });

  test("loopback, an ephemeral port and a token of 192 random bits", () => {
    expect(dash.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  test("the page needs the token and comes with a CSP that pins its script", async () => {
    expect((await fetch(base)).status).toBe(401);
    expect((await fetch(`${base}?token=${token}x`)).status).toBe(401);
    const res = await fetch(dash.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(CLUSTER_VIEW_HTML);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]+=*'; /);
    expect(csp).toContain("connect-src 'self'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  test("a read-only tool answers as over MCP; the call needs the token", async () => {
    const res = await call({ name: "talos_node_summary", arguments: { nodes: ["10.5.0.2"] } });
    expect(res.status).toBe(200);
    const r = await res.json();
    expect(r.structuredContent.nodes.map((n: { node: string }) => n.node)).toEqual(["10.5.0.2"]);
    expect(r.structuredContent.nodes[0].role).toBe("controlplane");
    expect((await call({ name: "talos_node_summary" }, { authorization: "Bearer nope" })).status).toBe(401);
    expect((await call({ name: "talos_node_summary" }, { authorization: "" })).status).toBe(401);
  });

  test("mutating and unknown tools are refused without a call to the node", async () => {
    const before = sim.calls.length;
    for (const name of ["talos_reboot", "talos_service_action", "talos_upgrade", "talos_get", "nope"]) {
      const res = await call({ name, arguments: { nodes: ["10.5.0.2"], confirm: true } });
      expect(res.status).toBe(403);
      expect((await res.json()).error).toBe(`${name} is not one of the read-only tools the dashboard runs`);
    }
    expect(sim.calls.length).toBe(before);
  });

  test("another Host or Origin (DNS rebinding, other pages) is refused", async () => {
    const port = new URL(base).port;
    const evil = await fetch(dash.url, { headers: { host: `evil.example:${port}` } });
    expect(evil.status).toBe(403);
    const cross = await call({ name: "talos_node_summary" }, { origin: "http://evil.example" });
    expect(cross.status).toBe(403);
    const same = await call({ name: "talos_node_summary", arguments: { nodes: ["10.5.0.2"] } }, {
      origin: `http://localhost:${port}`,
    });
    expect(same.status).toBe(200);
  });

  test("the policy file applies to the dashboard's calls too: a denied tool sends nothing", async () => {
    const policy = join(sim.dir, "dashboard-policy.yaml");
    writeFileSync(policy, "tools:\n  deny: [talos_etcd]\n");
    const guarded = await spawnDashboard(sim, [], { TALOS_MCP_POLICY: policy });
    try {
      const u = new URL(guarded.url);
      const before = sim.calls.length;
      const res = await fetch(`${u.origin}/call`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${u.searchParams.get("token")}` },
        body: JSON.stringify({ name: "talos_etcd", arguments: { subcommand: "status" } }),
      });
      const r = await res.json();
      expect(r.isError).toBe(true);
      expect(r.content[0].text).toContain('talos_etcd is denied by "talos_etcd"');
      expect(sim.calls.length).toBe(before);
    } finally {
      await guarded.stop();
    }
  });

  test("malformed calls are refused", async () => {
    expect((await call("not an object")).status).toBe(403);
    expect((await call({ name: "talos_etcd", arguments: [1] })).status).toBe(400);
    const notJson = await fetch(`${base}call`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    const plain = await fetch(`${base}call`, {
      method: "POST",
      headers: { "content-type": "text/plain", authorization: `Bearer ${token}` },
      body: "{}",
    });
    expect(plain.status).toBe(415);
    expect((await call({ name: "talos_etcd", pad: "x".repeat(20_000) })).status).toBe(413);
    expect((await fetch(`${base}nope?token=${token}`)).status).toBe(404);
  });
});
