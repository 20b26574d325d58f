/**
 * @module The upgrade-path rule applied to every targeted node: at most one
 * minor version per step (lib/talos/versions.ts); unparseable tags pass.
 */
import { checkUpgradePath } from "../talos/versions.ts";

/** Why the upgrade is refused for some nodes, or undefined. `versions`: node → current tag. */
export function upgradePathRefusal(versions: ReadonlyMap<string, string>, image: string): string | undefined {
  const bad: string[] = [];
  for (const [node, tag] of versions) {
    const c = checkUpgradePath(tag, image);
    if (c.kind === "rejected") bad.push(`${node} (${tag}): ${c.reason}; go through ${c.path.join(" → ")}`);
  }
  if (!bad.length) return undefined;
  return `Refused: ${image} is too far from what these nodes run. ${bad.join(". ")}. Upgrade one minor ` +
    `version at a time, to the latest patch of each. TALOS_MCP_SKIP_VERSION_CHECK=true bypasses this check. ` +
    `Nothing was changed.`;
}
