/**
 * @module The platforms talos-mcp is released for, in one table shared by the
 * cross-build, the release checks and the launcher tests.
 */

/** One released platform: Bun compile target and release asset names. */
export interface Platform {
  /** GoReleaser's `<os>-<goarch>`, e.g. linux-amd64: the suffix of every asset name. */
  id: string;
  os: "linux" | "darwin" | "windows";
  /** GOARCH spelling, as GoReleaser names artifacts (`amd64`, `arm64`). */
  goarch: "amd64" | "arm64";
  /** Node's spelling (process.arch), which Bun's targets use too. */
  nodeArch: "x64" | "arm64";
  /** `bun build --compile --target` value; x64 uses the baseline (no AVX2) runtime. */
  bunTarget: string;
  /** Bare binary name in dist/ and in the GitHub release (what the npm launcher fetches). */
  asset: string;
}

function platform(os: Platform["os"], nodeArch: Platform["nodeArch"]): Platform {
  const goarch = nodeArch === "x64" ? "amd64" : "arm64";
  return {
    id: `${os}-${goarch}`,
    os,
    goarch,
    nodeArch,
    bunTarget: `bun-${os}-${nodeArch}${nodeArch === "x64" ? "-baseline" : ""}`,
    asset: `talos-mcp-${os}-${goarch}${os === "windows" ? ".exe" : ""}`,
  };
}

/** Every released platform. */
export const PLATFORMS: readonly Platform[] = [
  platform("linux", "x64"),
  platform("linux", "arm64"),
  platform("darwin", "x64"),
  platform("darwin", "arm64"),
  platform("windows", "x64"),
];
