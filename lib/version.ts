/** @module Version and commit, stamped by scripts/build.ts with `bun build --define`. */
declare const TALOS_MCP_VERSION: string;
declare const TALOS_MCP_COMMIT: string;

export const VERSION: string = typeof TALOS_MCP_VERSION === "string" ? TALOS_MCP_VERSION : "0.0.0-dev";
export const COMMIT: string = typeof TALOS_MCP_COMMIT === "string" ? TALOS_MCP_COMMIT : "unknown";
