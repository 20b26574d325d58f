/** @module The simulator's resource definitions carry a proto_spec that decodes, with upstream's meta.proto, to the same facts as their yaml_spec. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import protobuf from "protobufjs";
import { definitionProtoSpec, DEFINITIONS, namespaceProtoSpec } from "../../lib/sim/definitions.ts";

const META = resolve(
  process.env.TALOS_API_PROTO_DIR ?? resolve(import.meta.dir, "../../../shared/reference/talos-api"),
  "cosi/v1alpha1/meta.proto",
);
const have = existsSync(META);
if (!have) {
  const msg = `sim_definitions_test: ${META} not found`;
  if (process.env.TALOS_MCP_REQUIRE_SHARED === "1") throw new Error(msg);
  console.log(`${msg}; the upstream decoding check is skipped (set TALOS_API_PROTO_DIR)`);
}

describe.skipIf(!have)("proto_spec of the simulator's meta resources", () => {
  const root = have ? protobuf.parse(readFileSync(META, "utf8"), { keepCase: true }).root : new protobuf.Root();

  test("every resource definition decodes to its yaml facts", () => {
    const T = root.lookupType("cosi.resource.meta.ResourceDefinitionSpec");
    for (const d of DEFINITIONS) {
      const o = T.toObject(T.decode(definitionProtoSpec(d)), { enums: String, defaults: true });
      expect(o).toMatchObject({
        resource_type: d.type,
        display_type: d.displayType,
        default_namespace: d.defaultNamespace,
        aliases: d.aliases,
        all_aliases: d.allAliases,
        sensitivity: d.sensitivity === "sensitive" ? "SENSITIVE" : "NON_SENSITIVE",
      });
    }
  });

  test("a namespace decodes to its description", () => {
    const T = root.lookupType("cosi.resource.meta.NamespaceSpec");
    expect(T.toObject(T.decode(namespaceProtoSpec("runtime resources")))).toEqual({ description: "runtime resources" });
  });
});
