/** @module Simulated file access: MachineService.Read (admin only, regular files, ≤1 KiB chunks). */
import { nodeFiles } from "../fs.ts";
import { Code, type HandlerTable, SimError } from "./types.ts";

const M = "/machine.MachineService/";
const CHUNK = 1024;

export const fileHandlers: HandlerTable = {
  unary: {},
  stream: {
    [`${M}Read`]: async ({ node }, req, send) => {
      const file = nodeFiles(node).get(req.path);
      if (!file) throw new SimError(Code.NOT_FOUND, `open ${req.path}: no such file or directory`);
      if (file.content === undefined) throw new SimError(Code.UNKNOWN, "path must be a regular file");
      if (typeof file.content === "string") {
        const bytes = Buffer.from(file.content);
        for (let off = 0; off < bytes.length; off += CHUNK) await send({ bytes: bytes.subarray(off, off + CHUNK) });
        return;
      }
      const { size, chunk } = file.content;
      for (let off = 0; off < size; off += CHUNK) {
        await send({ bytes: chunk(off, Math.min(CHUNK, size - off)) });
      }
    },
  },
};
