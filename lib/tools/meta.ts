/**
 * @module talos_meta: the META partition's keys (one byte each). Reads any key (COSI MetaKeys); writes
 * and deletes only the keys Talos reserves for users unless the operator allows more, because the
 * others steer Talos itself (staged upgrades, disk encryption, network config of metal platforms).
 */
import * as v from "valibot";
import { parseMetaKey } from "../config.ts";
import { ToolError } from "../errors.ts";
import { getResource, listResources } from "../talos/cosi.ts";
import type { ApiSession } from "../talos/session.ts";
import { defineTool, MUTATING } from "./define.ts";
import { certFingerprint, context, insecureArgs, nodes, perNodeOutput } from "./params.ts";
import { insecureTarget, perNodeOrInsecure } from "./per_node.ts";

/** Talos' well-known META keys (pkg/machinery/meta constants): what each one steers. */
const KEY_NAMES: Record<number, string> = {
  6: "Upgrade",
  7: "StagedUpgradeImageRef",
  8: "StagedUpgradeInstallOptions",
  9: "StateEncryptionConfig",
  10: "MetalNetworkPlatformConfig",
  11: "DownloadURLCode",
  12: "UserReserved1",
  13: "UserReserved2",
  14: "UserReserved3",
  15: "UUIDOverride",
  16: "UniqueMachineToken",
  17: "DiskImageBootloader",
};
/** UserReserved1-3: the keys Talos leaves to users. */
const USER_KEYS = [12, 13, 14];

const hex = (k: number) => `0x${k.toString(16).padStart(2, "0")}`;
const named = (k: number) => (KEY_NAMES[k] ? `${hex(k)} (${KEY_NAMES[k]})` : hex(k));

const META_TYPE = "MetaKeys.runtime.talos.dev";

const WRITE = "/machine.MachineService/MetaWrite";
const DELETE = "/machine.MachineService/MetaDelete";

export const metaTool = defineTool({
  name: "talos_meta",
  title: "Node: META keys",
  description: "Read, write or delete keys of a node's META partition (key 0-255, decimal or 0x hex). read " +
    "shows any key; write and delete only the user keys 12-14 (0x0c-0x0e) unless the operator allows more. " +
    "insecure: a node in maintenance mode. write/delete need confirm: true and os:admin or os:meta:writer.",
  risk: "change",
  annotations: MUTATING,
  confirm: true,
  // Listed for readers (read is a COSI read); write and delete need their RPC's role.
  optionalRpcs: [WRITE, DELETE],
  rpcsFor: ({ action }) => (action === "write" ? [WRITE] : action === "delete" ? [DELETE] : []),
  input: {
    context,
    nodes,
    action: v.pipe(v.picklist(["read", "write", "delete"]), v.description("read (no confirm needed), write, delete.")),
    key: v.optional(
      v.pipe(
        v.union([v.string(), v.number()]),
        v.description("META key, 0-255, decimal or 0x hex (e.g. 0x0c); read without key lists every key."),
      ),
    ),
    value: v.optional(v.pipe(v.string(), v.maxLength(64 * 1024), v.description("write: the value (text)."))),
    ...insecureArgs,
  },
  output: perNodeOutput({
    keys: v.array(v.object({ key: v.string(), name: v.optional(v.string()), value: v.string() })),
    written: v.boolean(),
    deleted: v.boolean(),
    cert_fingerprint: certFingerprint,
  }),
  dryRun: (a) => a.action === "read",
  check: (a, config) => {
    insecureTarget(a, config);
    const key = a.key === undefined ? undefined : parseMetaKey(String(a.key));
    if (a.key !== undefined && key === undefined) {
      throw new ToolError(
        `key ${JSON.stringify(a.key)} is not a META key: 0-255, decimal or 0x hex.`,
        "INVALID_ARGUMENT",
      );
    }
    if (a.action !== "write" && a.value !== undefined) {
      throw new ToolError(`value goes only with action write.`, "INVALID_ARGUMENT");
    }
    if (a.action === "read") return;
    if (key === undefined) throw new ToolError(`${a.action} needs a key.`, "INVALID_ARGUMENT");
    if (a.action === "write" && a.value === undefined) throw new ToolError("write needs a value.", "INVALID_ARGUMENT");
    if (!USER_KEYS.includes(key) && !config.metaPrivilegedKeys.includes(key)) {
      throw new ToolError(
        `Refused: META key ${named(key)} is not a user key; Talos reads it itself, so a wrong value can break ` +
          `boot, upgrades or networking. Only 12-14 (UserReserved1-3) may be changed unless the operator lists ` +
          `the key in TALOS_MCP_META_PRIVILEGED_KEYS. Nothing was sent.`,
        "DENIED",
      );
    }
  },
  action: (a) => {
    const key = named(parseMetaKey(String(a.key))!);
    return a.action === "write"
      ? `write META key ${key} (${Buffer.byteLength(a.value ?? "")} bytes).`
      : `delete META key ${key}.`;
  },
  run: (args, ctx) =>
    perNodeOrInsecure(ctx, args, async (s: ApiSession, node) => {
      const key = args.key === undefined ? undefined : parseMetaKey(String(args.key))!;
      if (args.action === "write") {
        await s.api.machine.MetaWrite({ key, value: Buffer.from(args.value!) }, { node, signal: ctx.signal });
        return { written: true };
      }
      if (args.action === "delete") {
        await s.api.machine.MetaDelete({ key }, { node, signal: ctx.signal });
        return { deleted: true };
      }
      const show = (id: string, spec: unknown) => {
        const k = parseInt(id, 16);
        const value = String((spec as { value?: unknown } | null)?.value ?? "");
        return { key: id, ...(KEY_NAMES[k] ? { name: KEY_NAMES[k] } : {}), value };
      };
      if (key !== undefined) {
        try {
          const r = await getResource(s, node, "runtime", META_TYPE, hex(key), ctx.signal);
          return { keys: [show(r.id, r.spec)] };
        } catch (err) {
          if (err instanceof ToolError && err.code === "NOT_FOUND") return { keys: [] };
          throw err;
        }
      }
      const { items } = await listResources(s, node, "runtime", META_TYPE, 256, ctx.signal);
      return { keys: items.map((r) => show(r.id, r.spec)) };
    }),
});
