/** @module Every COSI resource the simulator serves carries a proto_spec, as Talos sends it. */
import { describe, expect, test } from "bun:test";
import { toWire } from "../../lib/sim/handlers/cosi.ts";
import { SimCluster } from "../../lib/sim/model.ts";
import { PROTO_SPEC_TYPES, resourceProtoSpec } from "../../lib/sim/resource_specs.ts";

describe("proto_spec of simulated resources", () => {
  test("every served resource on every node role has one", () => {
    const cluster = new SimCluster({ controlPlanes: 1, workers: 1 });
    cluster.nodes[0].diagnostics = [{ id: "d1", message: "address overlap", details: ["10.5.0.0/24"] }];
    for (const node of cluster.nodes) {
      for (const r of cluster.resources(node)) {
        const wire = toWire(r);
        expect({ type: r.type, id: r.id, bytes: wire.spec.proto_spec.length > 0 })
          .toEqual({ type: r.type, id: r.id, bytes: true });
      }
    }
  });

  test("a YAML name without a protobuf number is refused, not sent as zero", () => {
    expect(PROTO_SPEC_TYPES.has("MachineStatuses.runtime.talos.dev")).toBe(true);
    expect(() => resourceProtoSpec("MachineStatuses.runtime.talos.dev", { stage: "dancing" })).toThrow(
      'no protobuf number for machine stage "dancing"',
    );
    expect(() => resourceProtoSpec("Nope.talos.dev", {})).toThrow("no proto_spec encoding for Nope.talos.dev");
  });
});
