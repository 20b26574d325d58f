/**
 * @module The cluster view (ui://talos-mcp/cluster) in a real browser: headless Chromium loads it the way an
 * MCP Apps host does (sandboxed iframe, host CSP, the postMessage bridge played by the test page, tools/call
 * forwarded to the real binary) against a simulated cluster with a node down and a service unhealthy. Checks
 * the cards, bars, warnings, etcd and upgrade steps it renders, the host theme, the read-only allowlist, that
 * hostile strings from the cluster are shown and never run, and `talos-mcp dashboard` serving the same view.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Frame, Page } from "playwright-core";
import { type Sim, startSim } from "../../lib/sim/mod.ts";
import { type Harness, ok, spawnHarness, structured } from "../harness.ts";
import {
  type Browser,
  chromiumMissing,
  HOST_PAGE,
  launchChromium,
  spawnDashboard,
  underHostCsp,
} from "../harness_browser.ts";

const ARTIFACTS = resolve(import.meta.dir, "..", "artifacts");
const skip = chromiumMissing();
if (skip) console.warn(skip);

const DARK_BG = "rgb(23, 25, 30)";
const LIGHT_BG = "rgb(255, 255, 255)";

/** Loads the host page, starts the view with one tool result, and returns the view's frame once it has rendered. */
async function hostView(
  page: Page,
  h: Harness,
  tool: string,
  args: Record<string, unknown>,
  result: CallToolResult,
  hostContext: Record<string, unknown> = { theme: "dark" },
): Promise<Frame> {
  await page.exposeFunction("hostCall", (name: string, a: Record<string, unknown>) => h.call(name, a));
  await page.setContent(HOST_PAGE);
  const html = await viewHtml(h);
  await page.evaluate(
    ([html, tool, args, result, ctx]) => (window as any).startView(html, tool, args, result, ctx),
    [
      underHostCsp(html),
      tool,
      args,
      result,
      hostContext,
    ] as const,
  );
  const frame = await (await page.waitForSelector("iframe")).contentFrame();
  await frame!.waitForSelector("body[data-state=ready]");
  return frame!;
}

async function viewHtml(h: Harness): Promise<string> {
  const r = await h.client.readResource({ uri: "ui://talos-mcp/cluster" });
  return (r.contents[0] as { text: string }).text;
}

/** Every tools/call the view sent through the host, by tool name. */
const toolCalls = (page: Page) =>
  page.evaluate(() =>
    (window as any).fromView.filter((m: any) => m.method === "tools/call").map((m: any) => m.params.name)
  );

describe.skipIf(!!skip)("cluster view in Chromium", () => {
  let browser: Browser;
  let sim: Sim;
  let h: Harness;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    sim = await startSim(); // 3 control planes, 1 worker
    sim.cluster.nodes[3].faults.down = true;
    sim.cluster.setService("10.5.0.3", "kubelet", { healthy: false, message: "node not ready: PLEG is not healthy" });
    [browser, h] = await Promise.all([launchChromium(), spawnHarness({ simInstance: sim })]);
  });
  afterAll(async () => {
    await h?.close();
    await browser?.close();
    await sim?.stop();
  });

  test("4 nodes, one down and one service unhealthy: cards, bars, what is wrong, etcd", async () => {
    const result = await h.call("talos_node_summary", {});
    const summary = structured(result);
    const page = await browser.context.newPage();
    const frame = await hostView(page, h, "talos_node_summary", {}, result);

    expect(await frame.$$eval("article.card", (cards) => cards.map((c) => c.getAttribute("data-node")))).toEqual([
      "10.5.0.2",
      "10.5.0.3",
      "10.5.0.4",
      "10.5.0.5",
    ]);
    // The down node: a red card saying so, with the error the tool returned.
    const down = summary.nodes.find((n: any) => n.node === "10.5.0.5");
    expect(down.error).toBeString();
    expect(await frame.getAttribute("article[data-node='10.5.0.5']", "class")).toBe("card down");
    expect(await frame.textContent("article[data-node='10.5.0.5'] [data-status]")).toBe("down");
    expect(await frame.textContent("article[data-node='10.5.0.5'] .err")).toContain(down.error);
    // The unhealthy kubelet, on its card.
    expect(await frame.textContent("article[data-node='10.5.0.3'] li.svc[data-service=kubelet]")).toBe(
      'kubelet Running, unhealthy: "node not ready: PLEG is not healthy" (ServiceList)',
    );
    // An unhealthy service keeps the machine from being ready (MachineStatus), as on a real node.
    expect(await frame.textContent("article[data-node='10.5.0.3'] [data-status]")).toBe("not ready");
    expect(await frame.textContent("article[data-node='10.5.0.2'] [data-status]")).toBe("ready");
    // Bars show the figures of the result, one per disk.
    for (const n of summary.nodes.filter((n: any) => !n.error)) {
      const card = `article[data-node='${n.node}']`;
      const pct = (sel: string) =>
        frame.$$eval(`${card} ${sel}`, (bars) => bars.map((b) => b.getAttribute("data-pct")));
      expect(await pct("[data-bar=cpu]")).toEqual([String(n.cpu_busy_pct_since_boot)]);
      expect(await pct("[data-bar=memory]")).toEqual([String(n.memory.used_pct)]);
      expect(await pct("[data-bar=disk]")).toEqual(n.disks.map((d: any) => String(d.used_pct)));
      expect(await frame.textContent(`${card} dl`)).toContain(`Talos${n.talos}Kubernetes${n.kubernetes}`);
    }
    // What is wrong: the down node first, then the node that is not ready and its kubelet (a danger each); then
    // every warning the summary carries.
    const problems = await frame.$$eval("#problems li", (lis) => lis.map((li) => [li.className, li.textContent]));
    expect(problems[0]).toEqual(["danger", `10.5.0.5unreachable: ${down.error}`]);
    expect(problems[1]).toEqual(["danger", "sim-cp-2 (10.5.0.3)not ready (stage running)"]);
    expect(problems[2]).toEqual([
      "danger",
      'sim-cp-2 (10.5.0.3)service kubelet: Running, unhealthy: "node not ready: PLEG is not healthy" (ServiceList)',
    ]);
    const warnings = summary.nodes.flatMap((n: any) => n.warnings ?? []);
    expect(problems.slice(1).map(([, text]) => text).filter((t) => warnings.some((w: string) => t!.endsWith(w))))
      .toHaveLength(warnings.length);

    // etcd, fetched by the view through the host: three members, one leader, DB sizes.
    await frame.waitForSelector("body[data-etcd=done]");
    const etcd = ok(await h.call("talos_etcd", { subcommand: "status" }));
    const rows = await frame.$$eval("#etcd tbody tr", (trs) =>
      trs.map((tr) => [
        tr.getAttribute("data-node"),
        tr.getAttribute("data-leader"),
        tr.querySelector("[data-db-size]")?.getAttribute("data-db-size"),
      ]));
    expect(rows).toEqual(
      etcd.nodes.map((
        n: any,
      ) => [n.node, n.status.is_leader ? "true" : "false", String(n.status.db_size)]),
    );
    expect(rows.filter((r) => r[1] === "true")).toHaveLength(1);
    expect(await toolCalls(page)).toEqual(["talos_etcd"]);

    // The host's theme: dark now; a host-context change to light repaints it; host variables apply.
    expect(await frame.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(DARK_BG);
    await page.locator("iframe").screenshot({ path: join(ARTIFACTS, "dashboard.png") });
    await page.evaluate(() =>
      (window as any).sendToView({
        method: "ui/notifications/host-context-changed",
        params: { theme: "light", styles: { variables: { "--color-text-info": "rgb(1, 2, 3)" } } },
      })
    );
    await frame.waitForFunction((bg) => getComputedStyle(document.body).backgroundColor === bg, LIGHT_BG);
    expect(await frame.$eval(".badge.info", (b) => getComputedStyle(b).color)).toBe("rgb(1, 2, 3)");
    await page.locator("iframe").screenshot({ path: join(ARTIFACTS, "dashboard-light.png") });

    // Refresh asks the host for the summary again (same arguments), then etcd.
    await frame.evaluate(() => delete document.body.dataset.etcd);
    await frame.click("#refresh");
    await frame.waitForSelector("body[data-etcd=done]");
    expect(await toolCalls(page)).toEqual(["talos_etcd", "talos_node_summary", "talos_etcd"]);
    expect(await frame.$$eval("article.card", (cards) => cards.length)).toBe(4);

    const [renderMs, drawMs] = [
      await frame.getAttribute("body", "data-render-ms"),
      await frame.getAttribute("body", "data-draw-ms"),
    ];
    console.log(`cluster view: first render ${renderMs} ms after the frame's start, drawing ${drawMs} ms of it`);
    await page.close();
  });

  test("a 3-step upgrade plan: check, upgrade, gate, in order", async () => {
    const args = { nodes: ["10.5.0.3"], version: "v1.14.2" };
    const result = await h.call("talos_upgrade_plan", args);
    const plan = ok(result);
    expect(plan.steps).toHaveLength(3);
    const page = await browser.context.newPage();
    const frame = await hostView(page, h, "talos_upgrade_plan", args, result, { theme: "light" });

    const steps = await frame.$$eval(
      "#steps li",
      (lis) => lis.map((li) => [li.getAttribute("data-step"), li.getAttribute("data-action"), li.className]),
    );
    expect(steps).toEqual([["1", "check", "check"], ["2", "upgrade", "upgrade"], ["3", "gate", "gate"]]);
    expect(await frame.textContent("#steps li[data-step='2']")).toContain(plan.steps[1].image);
    expect(await frame.textContent("#steps li[data-step='3']")).toContain(plan.steps[2].detail);
    expect(await frame.textContent("#plan-head")).toContain(`Target${plan.target}`);
    expect(await frame.$$eval("#plan-problems li", (lis) => lis.map((li) => li.textContent))).toEqual([
      ...plan.blockers.map((b: string) => `blocker${b}`),
      ...plan.warnings.map((w: string) => `warning${w}`),
    ]);
    // A plan alone: no summary section, and the view fetched nothing.
    expect(await frame.isHidden("#summary")).toBe(true);
    expect(await toolCalls(page)).toEqual([]);
    await page.locator("iframe").screenshot({ path: join(ARTIFACTS, "upgrade-plan.png") });
    await page.close();
  });

  test("the view calls read-only tools only: a mutating one is refused before it reaches the host", async () => {
    const result = await h.call("talos_node_summary", {});
    const page = await browser.context.newPage();
    const frame = await hostView(page, h, "talos_node_summary", {}, result);
    await frame.waitForSelector("body[data-etcd=done]");
    const reboots = sim.callsTo("Reboot").length;
    const answer = await frame.evaluate(() =>
      (window as any).talosView.callTool("talos_reboot", { nodes: ["10.5.0.2"], confirm: true })
        .then(() => "called", (e: Error) => e.message)
    );
    expect(answer).toBe("refused: talos_reboot is not a read-only tool this view may call");
    expect(await toolCalls(page)).toEqual(["talos_etcd"]);
    expect(sim.callsTo("Reboot").length).toBe(reboots);
    await page.close();
  });

  test("talos-mcp dashboard serves the same view, with data from its local endpoint", async () => {
    const dash = await spawnDashboard(sim);
    const page = await browser.context.newPage();
    const console_: string[] = [];
    page.on("console", (m) => console_.push(`${m.type()}: ${m.text()}`));
    try {
      const res = await page.goto(dash.url);
      expect(res!.headers()["content-security-policy"]).toContain("script-src 'sha256-");
      await page.waitForSelector("body[data-state=ready]");
      await page.waitForSelector("body[data-etcd=done]");
      expect(await page.$$eval("article.card", (cards) => cards.map((c) => c.getAttribute("data-node")))).toEqual([
        "10.5.0.2",
        "10.5.0.3",
        "10.5.0.4",
        "10.5.0.5",
      ]);
      expect(await page.textContent("article[data-node='10.5.0.5'] [data-status]")).toBe("down");
      expect(await page.$$eval("#etcd tbody tr[data-leader=true]", (trs) => trs.length)).toBe(1);
      // The plan form calls talos_upgrade_plan through the same endpoint.
      await page.fill("#plan-version", "v1.14.2");
      await page.click("#plan");
      await page.waitForSelector("#upgrade:not([hidden]) #steps li");
      expect(await page.$$eval("#steps li", (lis) => lis.length)).toBeGreaterThan(2);
      // The script ran under the page's CSP (by hash); nothing was blocked.
      expect(console_.filter((l) => /Content Security Policy|Refused/i.test(l))).toEqual([]);
    } finally {
      await page.close();
      await dash.stop();
    }
  });
});

describe.skipIf(!!skip)("cluster view escaping", () => {
  // Strings a compromised or odd node could send: each must appear as text and none may run.
  const HOSTNAME = `<script>window.__pwned=1</script>`;
  const SERVICE = `"><img src=x onerror="window.__pwned=2;parent.postMessage('pwned','*')">`;
  const DIAGNOSTIC = `</style><script>window.__pwned=3</script>'><svg onload=window.__pwned=4>`;
  const DETAIL = `<iframe srcdoc="<script>parent.__pwned=5</script>"></iframe>`;
  let browser: Browser;
  let sim: Sim;
  let h: Harness;

  beforeAll(async () => {
    sim = await startSim();
    sim.cluster.nodes[2].hostname = HOSTNAME;
    sim.cluster.setService("10.5.0.3", "kubelet", { healthy: false, message: SERVICE });
    sim.cluster.nodes[1].diagnostics = [{ id: "address-overlap", message: DIAGNOSTIC, details: [DETAIL] }];
    [browser, h] = await Promise.all([launchChromium(), spawnHarness({ simInstance: sim })]);
  });
  afterAll(async () => {
    await h?.close();
    await browser?.close();
    await sim?.stop();
  });

  test("host names, service messages and diagnostics are shown as text and never executed", async () => {
    const result = await h.call("talos_node_summary", {});
    const summary = structured(result);
    // The hostile strings really reached the result the view is given.
    expect(summary.nodes[2].hostname).toBe(HOSTNAME);
    // The summary quotes a service's message as JSON, so its quotes arrive escaped; the tags arrive as they are.
    expect(summary.nodes[1].warnings.find((w: string) => w.startsWith("service "))).toContain(JSON.stringify(SERVICE));
    expect(summary.nodes[1].warnings).toContain(`Talos diagnostic address-overlap: ${DIAGNOSTIC} (${DETAIL})`);

    const page = await browser.context.newPage();
    const frame = await hostView(page, h, "talos_node_summary", {}, result);
    await frame.waitForSelector("body[data-etcd=done]");
    const text = await frame.textContent("body");
    for (const s of [HOSTNAME, JSON.stringify(SERVICE), DIAGNOSTIC, DETAIL]) expect(text).toContain(s);
    // Nothing ran, and no element came out of the data: the view's one script, no img/svg/iframe.
    expect(await frame.evaluate(() => (window as any).__pwned)).toBeUndefined();
    expect(await frame.$$eval("script", (s) => s.length)).toBe(1);
    expect(await frame.$$eval("img, svg, iframe, object, embed", (e) => e.length)).toBe(0);
    expect(await page.evaluate(() => (window as any).fromView.filter((m: unknown) => m === "pwned").length)).toBe(0);
    await page.close();
  });
});
