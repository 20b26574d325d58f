/**
 * @module The cluster view, an MCP Apps resource: one self-contained HTML file (no network, no CDN) embedded in
 * the binary as text, like proto/. Hosts that render MCP Apps show talos_node_summary and talos_upgrade_plan
 * results with it; `talos-mcp dashboard` serves the same file locally.
 */
import html from "./cluster.html" with { type: "text" };

/** The view's resource URI; tools link to it in `_meta.ui.resourceUri`. */
export const CLUSTER_VIEW_URI = "ui://talos-mcp/cluster";

/** The MCP Apps MIME type of an HTML view. */
export const APP_MIME = "text/html;profile=mcp-app";

/** The view's HTML. Bun's types describe an .html import as a bundle; `type: "text"` makes it the file's text. */
export const CLUSTER_VIEW_HTML = html as unknown as string;

/**
 * The tools the view may call, all read-only. The view enforces the same list itself (READ_ONLY_TOOLS in
 * cluster.html; tests/apps_view_test.ts keeps them equal); the dashboard endpoint refuses every other name.
 */
export const VIEW_TOOLS: readonly string[] = ["talos_node_summary", "talos_etcd", "talos_upgrade_plan"];
