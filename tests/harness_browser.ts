/**
 * @module Browser test harness: headless Chromium (Debian's package) driven by playwright-core, a page that
 * plays the MCP Apps host for the cluster view, and `talos-mcp dashboard` spawned against a simulator.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import type { Sim } from "../lib/sim/mod.ts";
import { BIN } from "./harness.ts";

export const CHROMIUM = process.env.TALOS_MCP_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Why the browser tests cannot run here, or undefined when they can. Where .ci/run installs Chromium (root on
 * Debian, TALOS_MCP_REQUIRE_CHROMIUM=1) a missing browser is a failure, not a skip.
 */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const msg = `SKIP browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set TALOS_MCP_CHROMIUM)`;
  if (process.env.TALOS_MCP_REQUIRE_CHROMIUM === "1") throw new Error(`${msg}; required here (.ci/run installs it)`);
  return msg;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Chromium with a new empty profile and everything that would dial out switched off: the test machine has no
 * network, and Chromium's background connections to it misbehave otherwise.
 */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "talos-mcp-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The CSP an MCP Apps host applies to a view that declares no domains (the extension's restrictive default). */
export const HOST_DEFAULT_CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; " +
  "style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'none'";

/**
 * A page that hosts the view as an MCP Apps host does: the HTML in a sandboxed iframe under the host's CSP, the
 * ui/initialize handshake with a host context (theme, tool), then the tool's input and result, and tools/call
 * from the view forwarded to the real server (`hostCall`, exposed by the test). Every message the view sends
 * is kept in `window.fromView`.
 */
export const HOST_PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>test host</title></head>
<body style="margin:0;background:#888">
<script>
window.fromView = [];
window.startView = (html, tool, args, result, hostContext) => {
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.style.cssText = "width:1000px;height:400px;border:0;display:block";
  frame.srcdoc = html;
  const send = (msg) => frame.contentWindow.postMessage({ jsonrpc: "2.0", ...msg }, "*");
  window.sendToView = send;
  window.addEventListener("message", async (ev) => {
    if (ev.source !== frame.contentWindow) return;
    const m = ev.data;
    window.fromView.push(m);
    if (m.method === "ui/initialize") {
      send({ id: m.id, result: {
        protocolVersion: "2026-01-26",
        hostInfo: { name: "talos-mcp-test-host", version: "1" },
        hostCapabilities: { serverTools: {} },
        hostContext: { ...hostContext, toolInfo: { tool: { name: tool } } },
      } });
    } else if (m.method === "ui/notifications/initialized") {
      send({ method: "ui/notifications/tool-input", params: { arguments: args } });
      send({ method: "ui/notifications/tool-result", params: result });
    } else if (m.method === "tools/call") {
      try {
        send({ id: m.id, result: await window.hostCall(m.params.name, m.params.arguments) });
      } catch (err) {
        send({ id: m.id, error: { code: -32603, message: String(err && err.message) } });
      }
    } else if (m.method === "ui/notifications/size-changed") {
      frame.style.height = m.params.height + "px";
    }
  });
  document.body.append(frame);
};
</script></body></html>`;

/** The view's HTML as a host serves it: its CSP in a meta tag, as a sandbox proxy would set it. */
export function underHostCsp(html: string): string {
  return html.replace("<head>", `<head><meta http-equiv="Content-Security-Policy" content="${HOST_DEFAULT_CSP}">`);
}

export interface SpawnedDashboard {
  url: string;
  stop(): Promise<void>;
}

/** Spawns `dist/talos-mcp dashboard` against `sim` and waits for the URL it prints. */
export async function spawnDashboard(
  sim: Sim,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<SpawnedDashboard> {
  const child = spawn(BIN, ["dashboard", ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: sim.dir, TALOSCONFIG: sim.talosconfig, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    void exited.then((code) => reject(new Error(`dashboard exited (${code}) before printing its URL: ${err}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
