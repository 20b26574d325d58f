/** @module Simulated Containers and Processes (MachineService), from lib/sim/workloads.ts. */
import { criContainers, processes, systemContainers } from "../workloads.ts";
import { Code, type HandlerTable, one, SimError } from "./types.ts";

const M = "/machine.MachineService/";

export const containerHandlers: HandlerTable = {
  unary: {
    [`${M}Containers`]: ({ node }, req) => {
      const cri = req.driver === "CRI" || req.driver === 1;
      if (!req.namespace) throw new SimError(Code.INVALID_ARGUMENT, "namespace is required");
      if (cri && req.namespace !== "k8s.io") {
        throw new SimError(Code.INVALID_ARGUMENT, `CRI driver only supports namespace "k8s.io"`);
      }
      const list = req.namespace === "k8s.io"
        ? criContainers(node)
        : req.namespace === "system"
        ? systemContainers(node)
        : [];
      return one({
        containers: list.map((c) => ({
          namespace: req.namespace,
          id: c.id,
          image: c.image,
          pid: c.pid,
          status: c.status,
          pod_id: c.podId,
          name: c.name,
          network_namespace: "",
          internal_id: c.internalId,
          uid: "",
        })),
      });
    },
    [`${M}Processes`]: ({ node }) =>
      one({
        processes: processes(node).map((p) => ({
          pid: p.pid,
          ppid: p.ppid,
          state: p.state,
          threads: p.threads,
          cpu_time: p.cpuTime,
          virtual_memory: String(p.virtualMemory),
          resident_memory: String(p.residentMemory),
          command: p.command,
          executable: p.executable,
          args: p.args,
          label: "",
        })),
      }),
  },
  stream: {},
};
