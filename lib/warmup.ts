/**
 * @module Background warm-up after `initialized`: parse the protos, open the
 * default context's channel and ask every node its version, so the agent's
 * first call does not pay for it. Off the start-up path by construction.
 * Also warns when a node runs a Talos version outside the tested range.
 */
import type { Config } from "./config.ts";
import { messageOf } from "./errors.ts";
import { log } from "./log.ts";
import { fanOut } from "./talos/fan_out.ts";
import { versionTag } from "./talos/node_versions.ts";
import { type Sessions, targetNodes } from "./talos/session.ts";
import { learnHostnames } from "./talos/hostnames.ts";

/** Talos minor versions the project is tested against (v1.9 to v1.14); others get a warning. */
const TESTED_MINORS = { min: 9, max: 14 } as const;

/** A warning for a version tag outside the tested range, or undefined. */
export function versionWarning(node: string, tag: string): string | undefined {
  const m = /^v?(\d+)\.(\d+)\./.exec(tag);
  if (!m) return undefined; // development builds: nothing to compare
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major === 1 && minor >= TESTED_MINORS.min && minor <= TESTED_MINORS.max) return undefined;
  return `node ${node} runs Talos ${tag}, outside the range talos-mcp is tested with ` +
    `(v1.${TESTED_MINORS.min} to v1.${TESTED_MINORS.max}); calls may fail or behave differently`;
}

/** The line logged when warm-up ends, whatever happened; tests wait for it. */
export const WARMUP_DONE = "warm-up done";

export async function warmUp(sessions: Sessions, config: Readonly<Config>): Promise<void> {
  try {
    const session = await sessions.get();
    const nodes = targetNodes(session.ctx);
    const hostnames = learnHostnames(session, nodes, new AbortController().signal, config.callTimeoutMs);
    const results = await fanOut(nodes, config.fanOutConcurrency, (node) => versionTag(session, node));
    await hostnames;
    for (const r of results) {
      const warning = r.value ? versionWarning(r.node, r.value) : undefined;
      if (warning) log("warning", warning);
    }
    const ok = results.filter((r) => r.value !== undefined).length;
    log("info", `${WARMUP_DONE}: context "${session.ctx.name}", ${ok}/${nodes.length} nodes answered`);
  } catch (err) {
    log("info", `${WARMUP_DONE}: ${messageOf(err)}`);
  }
}
