/**
 * @module Simulated file access: MachineService.Read (admin only, regular
 * files, ≤1 KiB chunks, follows symlinks) and List (Go FileMode bits,
 * relative_name, recursion_depth as Talos fills them).
 */
import { nodeFiles, walk } from "../fs.ts";
import { Code, type HandlerTable, SimError } from "./types.ts";

const M = "/machine.MachineService/";
const CHUNK = 1024;

export const fileHandlers: HandlerTable = {
  unary: {},
  stream: {
    [`${M}Read`]: async ({ node, signal }, req, send) => {
      const files = nodeFiles(node);
      let file = files.get(req.path);
      if (file?.link) file = files.get(file.link);
      if (!file) throw new SimError(Code.NOT_FOUND, `open ${req.path}: no such file or directory`);
      if (file.content === undefined) throw new SimError(Code.UNKNOWN, "path must be a regular file");
      if (typeof file.content === "string") {
        const bytes = Buffer.from(file.content);
        for (let off = 0; off < bytes.length; off += CHUNK) await send({ bytes: bytes.subarray(off, off + CHUNK) });
        return;
      }
      const { size, chunk } = file.content;
      for (let off = 0; off < size && !signal.aborted; off += CHUNK) {
        await send({ bytes: chunk(off, Math.min(CHUNK, size - off)) });
      }
    },
    [`${M}List`]: async ({ node, signal }, req, send) => {
      const depth = req.recurse ? Number(req.recursion_depth ?? 0) : 1;
      const entries = walk(node, req.root || "/", depth);
      let first;
      try {
        first = entries.next(); // the root is stat'ed before anything is sent, as Talos does
      } catch (err) {
        throw new SimError(Code.NOT_FOUND, (err as Error).message);
      }
      if (!first.done) await send(first.value);
      for (const e of entries) {
        if (signal.aborted) return;
        await send(e);
      }
    },
  },
};
