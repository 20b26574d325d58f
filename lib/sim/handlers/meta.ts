/** @module Simulated META: MetaWrite and MetaDelete of one key (0-255) on the node's META partition. */
import { type HandlerTable, one, type SimCall, SimError } from "./types.ts";
import { Code } from "./types.ts";

const M = "/machine.MachineService/";

/** META keys are one byte; Talos refuses anything wider. */
function key(req: { key?: number }): number {
  const k = Number(req.key ?? 0);
  if (!Number.isInteger(k) || k < 0 || k > 255) throw new SimError(Code.INVALID_ARGUMENT, `key ${k} is out of range`);
  return k;
}

export const metaHandlers: HandlerTable = {
  unary: {
    [`${M}MetaWrite`]: ({ node, cluster }: SimCall, req) => {
      node.meta.set(key(req), Buffer.from(req.value ?? []).toString("utf8"));
      cluster.changed(node);
      return one({});
    },
    [`${M}MetaDelete`]: ({ node, cluster }: SimCall, req) => {
      const k = key(req);
      if (!node.meta.delete(k)) throw new SimError(Code.NOT_FOUND, `key ${k} not found`);
      cluster.changed(node);
      return one({});
    },
  },
  stream: {},
};
