/** @module Which release asset this machine runs, and where the launcher caches it. */
import { homedir } from "node:os";
import { join } from "node:path";

const OS = { linux: "linux", darwin: "darwin", win32: "windows" };
const ARCH = { x64: "amd64", arm64: "arm64" };
/** The platforms a release carries a binary for (GoReleaser's os-arch names). */
export const SUPPORTED = ["linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64", "windows-amd64"];

/**
 * The release asset for a Node platform/arch pair, e.g. talos-mcp-linux-amd64.
 * Throws with the supported list when there is none.
 */
export function assetName(platform = process.platform, arch = process.arch) {
  const id = `${OS[platform] ?? platform}-${ARCH[arch] ?? arch}`;
  if (!SUPPORTED.includes(id)) {
    throw new Error(
      `no talos-mcp binary is released for ${platform}/${arch} (released: ${SUPPORTED.join(", ")}); ` +
        "build one from source and point TALOS_MCP_BINARY at it",
    );
  }
  return `talos-mcp-${id}${platform === "win32" ? ".exe" : ""}`;
}

/**
 * The per-version cache directory: TALOS_MCP_CACHE_DIR, else the platform's
 * user cache dir (XDG_CACHE_HOME or ~/.cache, ~/Library/Caches, %LOCALAPPDATA%).
 */
export function cacheDir(version, env = process.env, platform = process.platform) {
  let base = env.TALOS_MCP_CACHE_DIR;
  if (!base) {
    if (platform === "darwin") base = join(homedir(), "Library", "Caches", "talos-mcp");
    else if (platform === "win32") base = join(env.LOCALAPPDATA || join(homedir(), "AppData", "Local"), "talos-mcp");
    else base = join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "talos-mcp");
  }
  return join(base, version);
}
