/** @module talos_version: the Talos build each node runs. */
import * as v from "valibot";
import { defineTool, READ_ONLY } from "./define.ts";
import { certFingerprint, context, insecureArgs, nodes, perNodeOutput } from "./params.ts";
import { insecureTarget, perNodeOrInsecure } from "./per_node.ts";

export const versionTool = defineTool({
  name: "talos_version",
  title: "Node: Talos version",
  description: "Talos version, commit, Go version, arch and platform of each node. Cheap; use it to check " +
    "reachability and versions before upgrades or when behaviour differs between nodes. insecure: a node in " +
    "maintenance mode.",
  annotations: READ_ONLY,
  input: { context, nodes, ...insecureArgs },
  check: (a, config) => void insecureTarget(a, config),
  output: perNodeOutput({
    tag: v.string(),
    sha: v.string(),
    built: v.string(),
    go_version: v.string(),
    os: v.string(),
    arch: v.string(),
    platform: v.string(),
    platform_mode: v.string(),
    cert_fingerprint: certFingerprint,
  }),
  run: (args, ctx) =>
    perNodeOrInsecure(ctx, args, async (s, node) => {
      const res = await s.api.machine.Version({}, {
        node,
        signal: ctx.signal,
      });
      const m = res.messages?.[0];
      const ver = m?.version;
      return {
        tag: ver?.tag ?? "",
        sha: ver?.sha ?? "",
        ...(ver?.built ? { built: ver.built } : {}),
        go_version: ver?.go_version ?? "",
        os: ver?.os ?? "",
        arch: ver?.arch ?? "",
        ...(m?.platform ? { platform: m.platform.name, platform_mode: m.platform.mode } : {}),
      };
    }),
});
