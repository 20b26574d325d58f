/**
 * @module MCP prompts: the workflows an operator asks for most — troubleshoot
 * a node, check cluster health, plan an upgrade, review a config patch — as
 * instructions naming the tools to use in order. They run nothing themselves.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";

interface PromptArg {
  name: string;
  description: string;
  required?: boolean;
}

interface PromptSpec {
  name: string;
  title: string;
  description: string;
  arguments: PromptArg[];
  text(args: Record<string, string>): string;
}

const ctxArg: PromptArg = { name: "context", description: "talosconfig context (cluster); default: the current one" };
const ctxNote = (a: Record<string, string>) => (a.context ? ` Pass context: "${a.context}" to every tool.` : "");

const PROMPTS: readonly PromptSpec[] = [
  {
    name: "troubleshoot_node",
    title: "Troubleshoot a node",
    description: "Find out what is wrong with one Talos node, from a summary down to logs.",
    arguments: [
      { name: "node", description: "Node IP or hostname", required: true },
      { name: "symptom", description: "What was observed, e.g. NotReady, pods not scheduling" },
      ctxArg,
    ],
    text: (a) =>
      `Troubleshoot Talos node ${a.node}${a.symptom ? ` (reported symptom: ${a.symptom})` : ""}.${ctxNote(a)}
1. talos_node_summary with nodes: ["${a.node}"] — read its warnings (each with its evidence), cluster_warnings, stage/ready, disk and memory use.
2. For each unhealthy service: talos_logs for that service (tail_lines 100) and talos_services for its last health message.
3. If the node is not ready or just rebooted: talos_events and talos_dmesg (grep for error|fail|oom).
4. Disk or memory pressure: talos_mounts, talos_stats. Network trouble: talos_network, talos_netstat.
5. Control-plane node: talos_etcd (status, members) to see whether etcd is involved.
Report the most likely cause with the evidence (quote the lines), then the fix. Do not change anything
(reboot, restart, patch) without asking the user first.`,
  },
  {
    name: "check_cluster_health",
    title: "Check cluster health",
    description: "A quick health check of a whole Talos cluster with few calls.",
    arguments: [ctxArg],
    text: (a) =>
      `Check the health of the Talos cluster.${ctxNote(a)}
1. talos_contexts if unsure which cluster is meant.
2. talos_node_summary (all nodes, one call): note every node with warnings, unhealthy services, NotReady,
   versions that differ, disks ≥ 85% or memory ≥ 90%.
3. talos_etcd (status) on the control planes: one leader, no errors, no alarms, all members present.
4. talos_health for the cluster-level checks (give it wait_timeout 30s).
Answer with a one-line verdict (healthy / degraded / down), then a short table of problems per node
with the evidence and the next step for each. Only drill into nodes that showed a problem.`,
  },
  {
    name: "plan_upgrade",
    title: "Plan a Talos upgrade",
    description: "Plan a rolling Talos upgrade: quorum-aware order, one minor version at a time.",
    arguments: [
      { name: "version", description: "Target Talos version (e.g. v1.14.2) or installer image", required: true },
      ctxArg,
    ],
    text: (a) =>
      `Plan an upgrade of the Talos cluster to ${a.version}.${ctxNote(a)}
1. talos_node_summary: every node must be healthy before starting; list what is not.
2. talos_upgrade_plan with ${
        a.version.includes(":") ? `image: "${a.version}"` : `version: "${a.version}"`
      }: it returns the
   ordered steps — one minor version per step (never skip a minor), control-plane nodes one at a time
   with the etcd leader last, a health and etcd-quorum gate after each, then workers in batches.
3. Read its blockers and warnings; with fewer than 3 healthy etcd members, say that the Kubernetes API
   will be unavailable while a control plane reboots.
4. Recommend a talos_etcd_snapshot to a local file before the first step.
Present the plan as a numbered list the user can approve. Execute nothing: each talos_upgrade step
needs the user's explicit go-ahead, and each gate must pass before the next step.`,
  },
  {
    name: "review_config_patch",
    title: "Review a config patch",
    description: "Review a machine config patch for risk before it is applied.",
    arguments: [
      { name: "patch", description: "The patch (YAML/JSON merge patch or RFC 6902 JSON patch)", required: true },
      { name: "nodes", description: "Comma-separated nodes it is meant for" },
      ctxArg,
    ],
    text: (a) =>
      `Review this Talos machine config patch before it is applied${a.nodes ? ` to ${a.nodes}` : ""}.${ctxNote(a)}

\`\`\`yaml
${a.patch}
\`\`\`

1. Check it is well-formed and which config documents and fields it touches.
2. talos_get machineconfig on one target node to see the current values it would change (secrets are masked).
3. talos_patch_config with dry_run: true on the target nodes: read the diff Talos computes and whether
   the change needs a reboot.
4. Flag risks: network or install-disk changes, cluster-wide fields (cluster.*) applied to only some
   nodes, etcd or control-plane endpoint changes, anything that could cut the node off from the API.
Answer: what the patch changes, the risk (low/medium/high) with reasons, the apply mode to use
(no-reboot, reboot, staged, try), and the rollout order. Do not apply it.`,
  },
];

export function registerPrompts(server: Server): void {
  server.setRequestHandler(ListPromptsRequestSchema, () => ({
    prompts: PROMPTS.map(({ name, title, description, arguments: args }) => ({
      name,
      title,
      description,
      arguments: args,
    })),
  }));
  server.setRequestHandler(GetPromptRequestSchema, (req) => {
    const p = PROMPTS.find((x) => x.name === req.params.name);
    if (!p) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown prompt ${req.params.name}; available: ${PROMPTS.map((x) => x.name).join(", ")}.`,
      );
    }
    const args = req.params.arguments ?? {};
    const missing = p.arguments.filter((a) => a.required && !args[a.name]?.trim()).map((a) => a.name);
    if (missing.length) {
      throw new McpError(ErrorCode.InvalidParams, `Prompt ${p.name} needs ${missing.join(", ")}.`);
    }
    return {
      description: p.description,
      messages: [{ role: "user" as const, content: { type: "text" as const, text: p.text(args) } }],
    };
  });
}
