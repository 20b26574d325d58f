/**
 * @module Simulated Logs, LogsContainers and Dmesg: byte streams in ≤1 KiB
 * `common.Data` chunks that split lines anywhere, `tail_lines` as Talos reads
 * it (≥ 0: the last N lines, so 0 is nothing; -1: all), Dmesg one record per message.
 */
import { containerLog, dmesgLog, serviceLog, type SimLog } from "../logs.ts";
import { Code, type HandlerTable, one, SimError } from "./types.ts";

const M = "/machine.MachineService/";
const CHUNK = 1024;

async function sendLines(log: SimLog, from: number, send: (msg: unknown) => Promise<void>, signal: AbortSignal) {
  let buf = "";
  for (let i = from; i < log.count; i++) {
    if (signal.aborted) return;
    buf += log.line(i) + "\n";
    while (buf.length >= CHUNK) {
      await send({ bytes: Buffer.from(buf.slice(0, CHUNK)) });
      buf = buf.slice(CHUNK);
    }
  }
  if (buf) await send({ bytes: Buffer.from(buf) });
}

export const logHandlers: HandlerTable = {
  unary: {
    [`${M}LogsContainers`]: ({ node }) =>
      one({ ids: [...node.services.map((s) => s.id), "kernel", ...(node.extraLogs?.keys() ?? [])].sort() }),
  },
  stream: {
    [`${M}Logs`]: async ({ node, signal }, req, send) => {
      const cri = req.driver === "CRI" || req.driver === 1;
      if (!req.namespace) throw new SimError(Code.INVALID_ARGUMENT, "namespace is required");
      const log = req.namespace === "k8s.io" && cri
        ? containerLog(node, req.id)
        : req.namespace === "system"
        ? serviceLog(node, req.id)
        : undefined;
      if (!log) {
        throw new SimError(
          Code.NOT_FOUND,
          req.namespace === "system" ? `log "${req.id}" was not registered` : `container "${req.id}" not found`,
        );
      }
      const tail = Number(req.tail_lines ?? 0);
      const from = tail < 0 ? 0 : Math.max(0, log.count - tail);
      await sendLines(log, from, send, signal);
    },
    [`${M}Dmesg`]: async ({ node, signal }, req, send) => {
      if (req.tail && !req.follow) return; // tail skips the existing buffer: nothing to send without follow
      const log = dmesgLog(node);
      for (let i = 0; i < log.count && !signal.aborted; i++) await send({ bytes: Buffer.from(log.line(i)) });
    },
  },
};
