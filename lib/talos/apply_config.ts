/**
 * @module ApplyConfiguration as every config tool sends it: the whole config, the mode always explicit
 * (the proto default REBOOT reboots a ≤ 1.13 node at once and is refused by 1.14), and the question
 * the quorum guard needs answered first: which nodes would mode auto reboot?
 */
import { ToolError } from "../errors.ts";
import { fanOut } from "./fan_out.ts";
import type { ApiSession } from "./session.ts";
import type { ApplyConfigurationResponse__Output } from "./proto_types/machine/ApplyConfigurationResponse.ts";

/** Tool mode names → ApplyConfigurationRequest.Mode. */
const APPLY_MODE = {
  auto: "AUTO",
  "no-reboot": "NO_REBOOT",
  reboot: "REBOOT",
  staged: "STAGED",
  try: "TRY",
} as const;
export type ApplyMode = keyof typeof APPLY_MODE;
export const APPLY_MODES = Object.keys(APPLY_MODE) as ApplyMode[];

/** One ApplyConfiguration of `data` (the whole config) with an explicit mode. */
export async function applyConfiguration(
  s: ApiSession,
  node: string,
  data: Buffer,
  mode: ApplyMode,
  dryRun: boolean,
  signal: AbortSignal,
): Promise<ApplyConfigurationResponse__Output> {
  try {
    return await s.api.machine.ApplyConfiguration({ data, mode: APPLY_MODE[mode], dry_run: dryRun }, { node, signal });
  } catch (err) {
    if (err instanceof ToolError && err.code === "UNIMPLEMENTED" && mode === "reboot") {
      throw new ToolError(
        `node ${node} refuses mode reboot (Talos 1.14 removed it). Apply with mode auto or no-reboot, ` +
          `then reboot with talos_reboot if the change needs it.`,
        "UNIMPLEMENTED",
      );
    }
    throw err;
  }
}

/**
 * The nodes a config applied in mode auto would reboot: each is asked in a dry run, and its reply's
 * resolved mode says REBOOT or NO_REBOOT (Talos 1.14 never reboots in auto). `configFor` gives a node's
 * new config, or undefined when it would not change (then it does not reboot). A node that cannot be
 * asked counts as rebooting, so the quorum guard errs on the safe side.
 */
export async function wouldReboot(
  s: ApiSession,
  nodes: readonly string[],
  concurrency: number,
  signal: AbortSignal,
  configFor: (node: string) => Promise<Buffer | undefined>,
): Promise<string[]> {
  const outcomes = await fanOut(nodes, concurrency, async (node) => {
    const data = await configFor(node);
    if (!data) return false;
    const res = await applyConfiguration(s, node, data, "auto", true, signal);
    return res.messages?.[0]?.mode !== "NO_REBOOT";
  });
  return outcomes.filter((o) => o.value !== false).map((o) => o.node);
}
