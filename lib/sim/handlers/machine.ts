/** @module Simulated MachineService basics: Version, Hostname, ServiceList. */
import { goVersionFor, versionSha } from "../model.ts";
import { type HandlerTable, one } from "./types.ts";

const M = "/machine.MachineService/";

export const machineHandlers: HandlerTable = {
  unary: {
    [`${M}Version`]: ({ node }) =>
      one({
        version: {
          tag: node.version,
          sha: versionSha(node.version),
          built: "",
          go_version: goVersionFor(node.version),
          os: "linux",
          arch: node.arch,
        },
        platform: { name: "metal", mode: "metal" },
        features: { rbac: true },
      }),
    [`${M}Hostname`]: ({ node }) => one({ hostname: node.hostname }),
    [`${M}ServiceList`]: ({ node }) =>
      one({
        services: node.services.map((s) => ({
          id: s.id,
          state: s.state,
          events: { events: [] },
          health: { unknown: s.healthy === null, healthy: s.healthy === true, last_message: s.message },
        })),
      }),
  },
  stream: {},
};
