/**
 * @module The Talos API subset in proto/, embedded in the binary as text and
 * parsed on first use (parsing costs tens of milliseconds, so never at start-up).
 */
import type { PackageDefinition } from "@grpc/proto-loader";
import common from "../../proto/common/common.proto" with { type: "text" };
import status from "../../proto/google/rpc/status.proto" with { type: "text" };
import machine from "../../proto/machine/machine.proto" with { type: "text" };
import image from "../../proto/machine/image.proto" with { type: "text" };
import lifecycle from "../../proto/machine/lifecycle.proto" with { type: "text" };
import cluster from "../../proto/cluster/cluster.proto" with { type: "text" };
import storage from "../../proto/storage/storage.proto" with { type: "text" };
import resource from "../../proto/v1alpha1/resource.proto" with { type: "text" };
import state from "../../proto/v1alpha1/state.proto" with { type: "text" };
import config from "../../proto/resource/config/config.proto" with { type: "text" };

/** Include-relative path → text, in dependency order. */
export const PROTO_SOURCES: ReadonlyArray<[string, string]> = [
  ["google/rpc/status.proto", status],
  ["common/common.proto", common],
  ["machine/machine.proto", machine],
  ["machine/image.proto", image],
  ["machine/lifecycle.proto", lifecycle],
  ["cluster/cluster.proto", cluster],
  ["storage/storage.proto", storage],
  ["v1alpha1/resource.proto", resource],
  ["v1alpha1/state.proto", state],
  ["resource/config/config.proto", config],
];

/** Decoding options, as the Talos wire needs them: exact field names, uint64 as strings, Any decoded. */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  json: true,
} as const;

let definition: PackageDefinition | undefined;

/** Parses the embedded protos once; later calls return the same definition. */
export async function packageDefinition(): Promise<PackageDefinition> {
  if (definition) return definition;
  const [{ default: protobuf }, protoLoader] = await Promise.all([
    import("protobufjs"),
    import("@grpc/proto-loader"),
  ]);
  const root = new protobuf.Root();
  for (const wkt of ["any", "duration", "empty", "timestamp"]) {
    root.addJSON(protobuf.common.get(`google/protobuf/${wkt}.proto`)!.nested!);
  }
  for (const [, text] of PROTO_SOURCES) protobuf.parse(text, root, { keepCase: true });
  definition = protoLoader.fromJSON(root.toJSON(), LOADER_OPTIONS);
  return definition;
}
