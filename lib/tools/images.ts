/**
 * @module Container images: talos_images (ImageService.List on Talos ≥ 1.13,
 * the legacy ImageList where that is UNIMPLEMENTED) and talos_image_pull
 * (ImageService.Pull, else legacy ImagePull), a guarded mutating tool.
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import type { TalosSession } from "../talos/session.ts";
import { defineTool, READ_ONLY } from "./define.ts";
import { context, more, nodeName, nodes, perNodeOutput } from "./params.ts";
import { nodesWithMore, perNode, withLimitNote } from "./per_node.ts";
import type { ImageListResponse__Output } from "../talos/proto_types/machine/ImageListResponse.ts";
import type { ImageServiceListResponse__Output } from "../talos/proto_types/machine/ImageServiceListResponse.ts";

const MiB = 1 << 20;
const NS = { cri: "NS_CRI", system: "NS_SYSTEM" } as const;
// ContainerdInstance: as talosctl image --namespace system|cri, the CRI containerd with that namespace
// (CONTAINERD + NS_CRI is rejected by Talos).

const namespace = v.optional(
  v.pipe(
    v.picklist(["cri", "system"]),
    v.description("containerd namespace: cri (Kubernetes pods, default) or system (Talos' own)."),
  ),
  "cri",
);

/** Tries the 1.13+ RPC, falls back to the legacy one where the node does not implement it. */
async function withFallback<T>(modern: () => Promise<T>, legacy: () => Promise<T>): Promise<T> {
  try {
    return await modern();
  } catch (err) {
    if (err instanceof ToolError && err.code === "UNIMPLEMENTED") return await legacy();
    throw err;
  }
}

/** ImageService.List and the legacy MachineService.ImageList answer with the same fields. */
type ImageRecord = ImageServiceListResponse__Output | ImageListResponse__Output;

async function collect(gen: AsyncGenerator<ImageRecord>, limit: number) {
  const items: ImageRecord[] = [];
  let more = false;
  for await (const m of gen) {
    if (items.length >= limit) {
      more = true;
      break;
    }
    if (m.name) items.push(m);
  }
  return { items, more };
}

function listImages(s: TalosSession, node: string, ns: "cri" | "system", limit: number, signal: AbortSignal) {
  return withFallback(
    () =>
      collect(
        s.api.image.List({
          containerd: { driver: "CRI", namespace: NS[ns] },
        }, { node, signal }),
        limit,
      ),
    () =>
      collect(
        s.api.machine.ImageList({ namespace: NS[ns] }, { node, signal }),
        limit,
      ),
  );
}

export const imagesTool = defineTool({
  name: "talos_images",
  title: "Images: list",
  description: "Container images present on each node (name, short digest, size), cri or system " +
    "namespace. Use to check that an image is cached before an upgrade or pod start.",
  annotations: READ_ONLY,
  input: {
    context,
    nodes,
    namespace,
    limit: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(2000), v.description("Max images per node (200).")),
      200,
    ),
  },
  output: perNodeOutput({
    images: v.array(v.object({ name: v.string(), digest: v.string(), size_mib: v.number() })),
    more,
  }),
  run: async (args, ctx) => {
    const result = await perNode(ctx, args, async (s, node) => {
      const { items, more } = await listImages(s, node, args.namespace, args.limit, ctx.signal);
      return {
        images: items.sort((a, b) => a.name.localeCompare(b.name)).map((i) => ({
          name: i.name,
          digest: i.digest.slice(0, 19), // sha256: + 12 hex, as container tools show it
          size_mib: Math.round((Number(i.size) / MiB) * 10) / 10,
        })),
        ...(more ? { more: true } : {}),
      };
    });
    const capped = nodesWithMore(result);
    return withLimitNote(
      result,
      capped
        ? {
          tool_limit: `listing stopped at limit=${args.limit} images on ${capped} node(s) (more: true)`,
          ask: "raise limit (up to 2000)",
        }
        : undefined,
    );
  },
});

const IMAGE_REF = /^[a-z0-9][a-z0-9._\-/:@]*$/i;

export const imagePullTool = defineTool({
  name: "talos_image_pull",
  title: "Images: pull",
  description: "Pull a container image into each node's containerd (cri or system namespace). Use to " +
    "pre-pull an installer or workload image. Needs confirm: true and os:operator.",
  risk: "operate",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  confirm: true,
  rpcs: ["/machine.ImageService/Pull", "/machine.MachineService/ImagePull"], // ImagePull: nodes before 1.13
  input: {
    context,
    nodes: v.pipe(
      v.array(nodeName),
      v.minLength(1, "name the nodes to pull on explicitly"),
      v.maxLength(64, "at most 64 nodes per call"),
      v.description("Nodes to pull on (required)."),
    ),
    image: v.pipe(
      v.string(),
      v.trim(),
      v.minLength(1),
      v.maxLength(512),
      v.regex(IMAGE_REF, "an image reference like ghcr.io/siderolabs/installer:v1.13.9"),
      v.description("Image reference, e.g. ghcr.io/siderolabs/installer:v1.13.9."),
    ),
    namespace,
    confirm: v.optional(v.pipe(v.boolean(), v.description("Must be true: this changes the nodes."))),
  },
  output: perNodeOutput({ pulled: v.string(), via: v.picklist(["ImageService.Pull", "MachineService.ImagePull"]) }),
  run: (args, ctx) =>
    perNode(ctx, args, (s, node) =>
      withFallback<{ pulled: string; via: string }>(
        async () => {
          let pulled = "";
          for await (
            const m of s.api.image.Pull({
              containerd: { driver: "CRI", namespace: NS[args.namespace] },
              image_ref: args.image,
            }, { node, signal: ctx.signal })
          ) if (m.response === "name" && m.name) pulled = m.name;
          return { pulled: pulled || args.image, via: "ImageService.Pull" };
        },
        async () => {
          await s.api.machine.ImagePull({
            namespace: NS[args.namespace],
            reference: args.image,
          }, { node, signal: ctx.signal });
          return { pulled: args.image, via: "MachineService.ImagePull" };
        },
      )),
});
