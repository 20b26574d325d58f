/**
 * @module Upgrading one node, the way its Talos version wants it:
 * 1.13+ pulls the installer with ImageService.Pull, installs it with
 * LifecycleService.Upgrade (success only on exit_code 0) and reboots; older
 * nodes get the legacy MachineService.Upgrade, which reboots by itself.
 */
import { ToolError } from "../errors.ts";
import { readBootId, waitForReboot } from "./boot.ts";
import { waitForReady } from "./node_ready.ts";
import { versionTag } from "./node_versions.ts";
import type { TalosSession } from "./session.ts";
import { parseTalosVersion, usesLifecycleUpgrade } from "./versions.ts";

/** What talosctl uses for upgrades: the CRI containerd, system namespace. */
const CONTAINERD = { driver: "CRI", namespace: "NS_SYSTEM" } as const;
const KEEP_LINES = 5;

/** What upgrading a node calls: both flows (lifecycle on 1.13+, legacy before), for a tool's `rpcs`. */
export const UPGRADE_RPCS = [
  "/machine.LifecycleService/Upgrade",
  "/machine.MachineService/Upgrade",
  "/machine.ImageService/Pull",
  "/machine.MachineService/Reboot",
] as const;

export interface UpgradeOptions {
  image: string;
  preserve: boolean;
  stage: boolean;
  force: boolean;
  rebootMode: "DEFAULT" | "POWERCYCLE";
  timeoutMs: number;
  signal: AbortSignal;
  progress: (message: string) => void;
}

export interface NodeUpgrade {
  flow: "lifecycle" | "legacy";
  /** Last lines of installer output (lifecycle flow). */
  output?: string[];
  /** Whether a reboot was started (not with stage on 1.13+). */
  rebooting: boolean;
}

async function upgradeNode(
  session: TalosSession,
  node: string,
  tag: string,
  o: UpgradeOptions,
): Promise<NodeUpgrade> {
  if (usesLifecycleUpgrade(tag)) {
    const done = await lifecycleUpgrade(session, node, o);
    if (done) return done;
    o.progress(`${node}: ImageService is not implemented, falling back to the legacy upgrade`);
  }
  await session.api.machine.Upgrade({
    image: o.image,
    preserve: o.preserve,
    stage: o.stage,
    force: o.force,
    reboot_mode: o.rebootMode,
  }, { node, signal: o.signal, timeoutMs: o.timeoutMs });
  return { flow: "legacy", rebooting: true };
}

/** Pull, install, reboot; undefined when the node lacks ImageService (talosctl falls back then too). */
async function lifecycleUpgrade(
  session: TalosSession,
  node: string,
  o: UpgradeOptions,
): Promise<NodeUpgrade | undefined> {
  const opts = { node, signal: o.signal, timeoutMs: o.timeoutMs };
  try {
    for await (
      const msg of session.api.image.Pull({
        containerd: CONTAINERD,
        image_ref: o.image,
      }, opts)
    ) {
      if (msg.response === "pull_progress") o.progress(`${node}: pulling ${msg.pull_progress?.layer_id?.slice(0, 19)}`);
    }
  } catch (err) {
    if (err instanceof ToolError && err.code === "UNIMPLEMENTED") return undefined;
    throw err;
  }
  const output: string[] = [];
  let exitCode: number | undefined;
  for await (
    const msg of session.api.lifecycle.Upgrade({
      containerd: CONTAINERD,
      // talosctl passes the reference it pulled, not the digest-pinned name Pull returns.
      source: { image_name: o.image },
    }, opts)
  ) {
    const p = msg.progress;
    // exit_code is a oneof member: 0 is a real value, so test the discriminator, never truthiness.
    if (p?.response === "exit_code") exitCode = p.exit_code ?? 0;
    else if (p?.response === "message" && p.message) {
      output.push(p.message);
      if (output.length > KEEP_LINES) output.shift();
      o.progress(`${node}: ${p.message}`);
    }
  }
  if (exitCode !== 0) {
    throw new ToolError(
      `the installer on ${node} ${
        exitCode === undefined ? "ended without an exit code" : `exited with code ${exitCode}`
      }; the node was not rebooted and still runs its current version. Last output: ${output.join(" | ")}`,
      "UPGRADE_FAILED",
    );
  }
  if (o.stage) return { flow: "lifecycle", output, rebooting: false };
  await session.api.machine.Reboot({ mode: o.rebootMode }, {
    node,
    signal: o.signal,
  });
  return { flow: "lifecycle", output, rebooting: true };
}

export interface UpgradeAndWait extends Omit<UpgradeOptions, "timeoutMs"> {
  /** The Talos version the image carries, when its tag says (a node back on another minor failed). */
  expected?: string;
  pollMs: number;
  /** Epoch ms: installing, rebooting and becoming ready must all end by then. */
  deadline: number;
}

/**
 * One node through an upgrade, as every upgrade tool does it: install, reboot, back with a new boot id on the
 * expected version (a node back on its old one means the new image did not boot and Talos fell back), and
 * every service ready before the caller moves on. A staged install (no reboot) ends after the install.
 */
export async function upgradeAndWait(
  session: TalosSession,
  node: string,
  o: UpgradeAndWait,
): Promise<NodeUpgrade & { from: string; to: string }> {
  const from = await versionTag(session, node, o.signal);
  const before = await readBootId(session, node, o.signal);
  const res = await upgradeNode(session, node, from, { ...o, timeoutMs: Math.max(1_000, o.deadline - Date.now()) });
  if (!res.rebooting) return { ...res, from, to: from };
  const wait = { pollMs: o.pollMs, deadline: o.deadline, signal: o.signal };
  await waitForReboot(session, node, { before, ...wait, onPoll: () => o.progress(`waiting for ${node} to come back`) });
  const to = await versionTag(session, node, o.signal);
  const want = o.expected ? parseTalosVersion(o.expected) : undefined;
  const got = parseTalosVersion(to);
  if (want && !(got && got.major === want.major && got.minor === want.minor && got.patch === want.patch)) {
    throw new ToolError(
      `${node} came back on ${to}, not ${o.expected}: the new image did not boot and Talos fell back to the ` +
        `previous one. Check talos_dmesg and talos_logs on ${node}.`,
      "UPGRADE_FAILED",
    );
  }
  await waitForReady(session, node, { ...wait, onPoll: (w) => o.progress(`${node}: waiting for ${w}`) });
  return { ...res, from, to };
}
