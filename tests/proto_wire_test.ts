/** @module Our proto/ subset matches the upstream Talos and COSI protos on the wire (names, numbers, types). */
// Wire-compatibility test for the project's own proto definitions (proto/).
//
// Our .proto files are a hand-written subset of the Talos gRPC API. This test
// loads them and the upstream Talos/COSI .proto files (a read-only reference
// kept beside the repo in ../shared/reference/talos-api) and checks that
// everything we declare exists upstream with the same full name, field
// number, type, label and oneof, and that every rpc has the same signature.
// It also encodes sample messages with both definitions and compares bytes.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { LOADER_OPTIONS } from "../lib/talos/protos.ts";

const REPO_DIR = path.resolve(import.meta.dir, "..");
const PROTO_DIR = path.join(REPO_DIR, "proto");
const UPSTREAM_DIR = process.env.TALOS_API_PROTO_DIR ??
  path.resolve(import.meta.dir, "../../shared/reference/talos-api");
const HAVE_UPSTREAM = existsSync(
  path.join(UPSTREAM_DIR, "machine", "machine.proto"),
);

if (!HAVE_UPSTREAM) {
  const msg = `proto_wire_test: upstream protos not found at ${UPSTREAM_DIR}`;
  if (process.env.TALOS_MCP_REQUIRE_SHARED === "1") throw new Error(msg);
  console.log(`${msg}; skipping upstream comparisons (set TALOS_API_PROTO_DIR)`);
}

/** The rpcs this project uses, by full service name. */
const EXPECTED_RPCS: Record<string, string[]> = {
  "machine.MachineService": [
    "ApplyConfiguration",
    "Bootstrap",
    "Containers",
    "Dmesg",
    "DiskStats",
    "DiskUsage",
    "EtcdAlarmList",
    "EtcdAlarmDisarm",
    "EtcdDefragment",
    "EtcdLeaveCluster",
    "EtcdRemoveMemberByID",
    "GenerateClientConfiguration",
    "EtcdMemberList",
    "EtcdSnapshot",
    "EtcdStatus",
    "EtcdForfeitLeadership",
    "Events",
    "Hostname",
    "ImageList",
    "ImagePull",
    "Kubeconfig",
    "List",
    "LoadAvg",
    "Logs",
    "LogsContainers",
    "Memory",
    "Mounts",
    "Netstat",
    "NetworkDeviceStats",
    "Processes",
    "Read",
    "MetaDelete",
    "MetaWrite",
    "Reboot",
    "Reset",
    "Rollback",
    "ServiceList",
    "ServiceStart",
    "ServiceStop",
    "ServiceRestart",
    "Shutdown",
    "Stats",
    "SystemStat",
    "Upgrade",
    "Version",
    "CPUInfo",
  ],
  "machine.ImageService": ["List", "Pull"],
  "machine.LifecycleService": ["Upgrade"],
  "cluster.ClusterService": ["HealthCheck"],
  "storage.StorageService": ["Disks"],
  "cosi.resource.State": ["Get", "List", "Watch"],
};

/** Payloads that arrive packed in machine.Event.data (no rpc references them). */
const EVENT_PAYLOADS = [
  "machine.SequenceEvent",
  "machine.PhaseEvent",
  "machine.TaskEvent",
  "machine.ServiceStateEvent",
  "machine.MachineStatusEvent",
  "machine.AddressEvent",
  "machine.ConfigLoadErrorEvent",
  "machine.ConfigValidationErrorEvent",
  "machine.RestartEvent",
];

/** Well-known types the loader provides (never shipped as files). */
const WELL_KNOWN = ["any", "duration", "empty", "timestamp", "descriptor"];

// ---------------------------------------------------------------- loading

// @grpc/proto-loader registers descriptor.proto with protobufjs on import; make
// sure it is there even if module instances ever differ.
if (!protobuf.common.get("google/protobuf/descriptor.proto")) {
  const require = createRequire(import.meta.url);
  const json = require("protobufjs/google/protobuf/descriptor.json");
  protobuf.common("descriptor", json.nested.google.nested.protobuf.nested);
}

interface ProtoFile {
  /** include-relative path, e.g. "machine/machine.proto" */
  name: string;
  text: string;
}

function listProtoFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    const rel = prefix ? `${prefix}/${entry}` : entry;
    if (statSync(full).isDirectory()) out.push(...listProtoFiles(full, rel));
    else if (entry.endsWith(".proto")) out.push(rel);
  }
  return out;
}

/** Where upstream keeps the file that our include-relative path names. */
function upstreamPathFor(name: string): string {
  if (name.startsWith("v1alpha1/")) {
    return path.join(UPSTREAM_DIR, "cosi", name);
  }
  if (name.startsWith("google/")) {
    return path.join(UPSTREAM_DIR, "vendor", name);
  }
  return path.join(UPSTREAM_DIR, name);
}

function wellKnownRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const wk of WELL_KNOWN) {
    const json = protobuf.common.get(`google/protobuf/${wk}.proto`);
    if (!json?.nested) {
      throw new Error(
        `well-known type google/protobuf/${wk}.proto not registered`,
      );
    }
    root.addJSON(json.nested);
  }
  return root;
}

function loadRoot(
  files: ProtoFile[],
): { root: protobuf.Root; imports: Map<string, string[]> } {
  const root = wellKnownRoot();
  const imports = new Map<string, string[]>();
  for (const f of files) {
    try {
      const parsed = protobuf.parse(f.text, root, { keepCase: true });
      imports.set(f.name, [
        ...(parsed.imports ?? []),
        ...(parsed.weakImports ?? []),
      ]);
    } catch (err) {
      throw new Error(`parsing ${f.name}: ${(err as Error).message}`);
    }
  }
  root.resolveAll();
  return { root, imports };
}

const OUR_FILE_NAMES = listProtoFiles(PROTO_DIR);
const ourFiles: ProtoFile[] = OUR_FILE_NAMES.map((name) => ({
  name,
  text: readFileSync(path.join(PROTO_DIR, name), "utf8"),
}));
const ours = loadRoot(ourFiles);

let upstreamCache: protobuf.Root | undefined;
function upstreamRoot(): protobuf.Root {
  upstreamCache ??= loadRoot(
    OUR_FILE_NAMES.map((name) => ({
      name,
      text: readFileSync(upstreamPathFor(name), "utf8"),
    })),
  ).root;
  return upstreamCache;
}

// ---------------------------------------------------------------- reflection walk

interface Index {
  types: Map<string, protobuf.Type>;
  enums: Map<string, protobuf.Enum>;
  services: Map<string, protobuf.Service>;
}

const strip = (
  fullName: string,
) => (fullName.startsWith(".") ? fullName.slice(1) : fullName);

/** Every type, enum and service by full name (without leading dot), skipping google.protobuf. */
function indexRoot(root: protobuf.Root): Index {
  const idx: Index = {
    types: new Map(),
    enums: new Map(),
    services: new Map(),
  };
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const obj of ns.nestedArray) {
      const name = strip(obj.fullName);
      if (name === "google.protobuf") continue;
      if (obj instanceof protobuf.Type) idx.types.set(name, obj);
      else if (obj instanceof protobuf.Enum) idx.enums.set(name, obj);
      else if (obj instanceof protobuf.Service) idx.services.set(name, obj);
      if (
        obj instanceof protobuf.Namespace || obj instanceof protobuf.Type ||
        obj instanceof protobuf.Service
      ) {
        walk(obj as protobuf.NamespaceBase);
      }
    }
  };
  walk(root);
  return idx;
}

/** Everything about a field that matters on the wire (and to proto-loader). */
function fieldSignature(f: protobuf.Field) {
  f.resolve();
  const map = f instanceof protobuf.MapField;
  const synthetic = f.options?.proto3_optional === true;
  return {
    id: f.id,
    type: f.resolvedType ? strip(f.resolvedType.fullName) : f.type,
    kind: f.resolvedType instanceof protobuf.Enum ? "enum" : f.resolvedType ? "message" : "scalar",
    label: map ? "map" : f.repeated ? "repeated" : synthetic ? "optional" : "singular",
    keyType: map ? (f as protobuf.MapField).keyType : null,
    packed: f.repeated ? f.packed : null,
    oneof: f.partOf && !synthetic ? f.partOf.name : null,
  };
}

function methodSignature(m: protobuf.Method) {
  m.resolve();
  return {
    request: strip(m.resolvedRequestType!.fullName),
    response: strip(m.resolvedResponseType!.fullName),
    requestStream: !!m.requestStream,
    responseStream: !!m.responseStream,
  };
}

const ourIndex = indexRoot(ours.root);

// ---------------------------------------------------------------- tests: our files alone

describe("our proto files", () => {
  test("the expected files exist", () => {
    expect(OUR_FILE_NAMES).toEqual([
      "cluster/cluster.proto",
      "common/common.proto",
      "google/rpc/status.proto",
      "machine/image.proto",
      "machine/lifecycle.proto",
      "machine/machine.proto",
      "resource/config/config.proto",
      "storage/storage.proto",
      "v1alpha1/resource.proto",
      "v1alpha1/state.proto",
    ]);
  });

  test("imports are include-relative paths to our files or loader-provided well-known types", () => {
    const known = new Set([
      ...OUR_FILE_NAMES,
      ...WELL_KNOWN.map((wk) => `google/protobuf/${wk}.proto`),
    ]);
    const bad: string[] = [];
    for (const [file, list] of ours.imports) {
      for (const imp of list) {
        if (!known.has(imp)) bad.push(`${file} imports ${imp}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test("no upstream-only options or license text slipped in", () => {
    const bad: string[] = [];
    for (const f of ourFiles) {
      for (
        const needle of [
          "go_package",
          "java_package",
          "remove_deprecated",
          "Licensed under",
          "Copyright",
        ]
      ) {
        if (f.text.includes(needle)) bad.push(`${f.name}: ${needle}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test("declares exactly the rpcs the project uses", () => {
    const actual: Record<string, string[]> = {};
    for (const [name, svc] of ourIndex.services) {
      actual[name] = svc.methodsArray.map((m) => m.name).sort();
    }
    const expected = Object.fromEntries(
      Object.entries(EXPECTED_RPCS).map(([k, v]) => [k, [...v].sort()]),
    );
    expect(actual).toEqual(expected);
  });

  test("event payload messages are present", () => {
    for (const name of EVENT_PAYLOADS) {
      expect(ourIndex.types.has(name)).toBe(true);
    }
    expect(
      ourIndex.types.has(
        "machine.MachineStatusEvent.MachineStatus.UnmetCondition",
      ),
    ).toBe(true);
  });

  test("loads with @grpc/proto-loader + grpc-js (fromJSON)", () => {
    const def = protoLoader.fromJSON(ours.root.toJSON(), LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(def);
    const lookup = (name: string): unknown =>
      name.split(".").reduce<unknown>(
        (o, k) => (o as Record<string, unknown> | undefined)?.[k],
        pkg,
      );
    for (const [svc, rpcs] of Object.entries(EXPECTED_RPCS)) {
      const ctor = lookup(svc) as grpc.ServiceClientConstructor | undefined;
      expect(typeof ctor).toBe("function");
      expect(Object.keys(ctor!.service).sort()).toEqual([...rpcs].sort());
    }
  });

  test("loads with @grpc/proto-loader loadSync from disk (include path = proto/)", () => {
    const def = protoLoader.loadSync(OUR_FILE_NAMES, {
      ...LOADER_OPTIONS,
      includeDirs: [PROTO_DIR],
    });
    for (const svc of Object.keys(EXPECTED_RPCS)) {
      expect(def[svc]).toBeDefined();
    }
    expect(def["resource.config.MachineConfigSpec"]).toBeDefined();
  });

  test("Event.data Any payloads decode with json: true", () => {
    const def = protoLoader.fromJSON(ours.root.toJSON(), LOADER_OPTIONS);
    const events = (def["machine.MachineService"] as protoLoader.ServiceDefinition).Events;
    const Event = ours.root.lookupType("machine.Event");
    const Phase = ours.root.lookupType("machine.PhaseEvent");
    const Status = ours.root.lookupType("machine.MachineStatusEvent");
    const cases: Array<[protobuf.Type, Record<string, unknown>]> = [
      [Phase, { phase: "install", action: 1 }],
      [Status, {
        stage: 4,
        status: {
          ready: false,
          unmet_conditions: [{ name: "n", reason: "r" }],
        },
      }],
    ];
    for (const [type, payload] of cases) {
      const bytes = Event.encode(Event.fromObject({
        id: "abc",
        data: {
          type_url: `talos/runtime/${strip(type.fullName)}`,
          value: type.encode(type.fromObject(payload)).finish(),
        },
      })).finish();
      const decoded = events.responseDeserialize(Buffer.from(bytes)) as {
        data: Record<string, unknown>;
      };
      expect(decoded.data["@type"]).toBe(
        `talos/runtime/${strip(type.fullName)}`,
      );
    }
    const decoded = events.responseDeserialize(
      Buffer.from(
        Event.encode(Event.fromObject({
          data: {
            type_url: "talos/runtime/machine.PhaseEvent",
            value: Phase.encode(
              Phase.fromObject({ phase: "install", action: 1 }),
            ).finish(),
          },
        })).finish(),
      ),
    ) as { data: Record<string, unknown> };
    expect(decoded.data.phase).toBe("install");
    expect(decoded.data.action).toBe("STOP");
  });
});

// ---------------------------------------------------------------- tests: against upstream

describe("wire compatibility with upstream Talos protos", () => {
  test.skipIf(!HAVE_UPSTREAM)("every rpc of ours exists upstream", () => {
    const up = indexRoot(upstreamRoot());
    const missing: string[] = [];
    for (const [svcName, svc] of ourIndex.services) {
      const upSvc = up.services.get(svcName);
      for (const m of svc.methodsArray) {
        if (!upSvc?.methods[m.name]) missing.push(`${svcName}/${m.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test.skipIf(!HAVE_UPSTREAM)(
    "rpcs have the same request/response types and streaming",
    () => {
      const up = indexRoot(upstreamRoot());
      const diffs: string[] = [];
      for (const [svcName, svc] of ourIndex.services) {
        for (const m of svc.methodsArray) {
          const upM = up.services.get(svcName)?.methods[m.name];
          if (!upM) continue; // reported by the test above
          const a = JSON.stringify(methodSignature(m));
          const b = JSON.stringify(methodSignature(upM));
          if (a !== b) {
            diffs.push(
              `${svcName}/${m.name}: ours ${a} upstream ${b}`,
            );
          }
        }
      }
      expect(diffs).toEqual([]);
    },
  );

  test.skipIf(!HAVE_UPSTREAM)(
    "every message and field of ours matches upstream",
    () => {
      const up = indexRoot(upstreamRoot());
      const diffs: string[] = [];
      for (const [name, type] of ourIndex.types) {
        const upType = up.types.get(name);
        if (!upType) {
          diffs.push(`message ${name}: not upstream`);
          continue;
        }
        for (const f of type.fieldsArray) {
          const upF = upType.fields[f.name];
          if (!upF) {
            diffs.push(`${name}.${f.name}: not upstream`);
            continue;
          }
          const a = JSON.stringify(fieldSignature(f));
          const b = JSON.stringify(fieldSignature(upF));
          if (a !== b) diffs.push(`${name}.${f.name}: ours ${a} upstream ${b}`);
        }
        const oneofs = (t: protobuf.Type) =>
          JSON.stringify(
            t.oneofsArray.map((o) => [
              o.name,
              o.fieldsArray.map((f) => f.name).sort(),
            ]).sort(),
          );
        if (oneofs(type) !== oneofs(upType)) {
          diffs.push(
            `${name}: oneofs ours ${oneofs(type)} upstream ${oneofs(upType)}`,
          );
        }
      }
      expect(diffs).toEqual([]);
    },
  );

  test.skipIf(!HAVE_UPSTREAM)(
    "our messages are complete (no upstream field left out)",
    () => {
      const up = indexRoot(upstreamRoot());
      const missing: string[] = [];
      for (const [name, type] of ourIndex.types) {
        const upType = up.types.get(name);
        if (!upType) continue;
        for (const f of upType.fieldsArray) {
          if (!type.fields[f.name]) {
            missing.push(`${name}.${f.name} = ${f.id}`);
          }
        }
      }
      expect(missing).toEqual([]);
    },
  );

  test.skipIf(!HAVE_UPSTREAM)(
    "every enum value of ours matches upstream, and none is left out",
    () => {
      const up = indexRoot(upstreamRoot());
      const diffs: string[] = [];
      for (const [name, en] of ourIndex.enums) {
        const upEnum = up.enums.get(name);
        if (!upEnum) {
          diffs.push(`enum ${name}: not upstream`);
          continue;
        }
        for (const [value, num] of Object.entries(en.values)) {
          if (upEnum.values[value] !== num) {
            diffs.push(
              `${name}.${value}: ours ${num} upstream ${upEnum.values[value]}`,
            );
          }
        }
        for (const value of Object.keys(upEnum.values)) {
          if (!(value in en.values)) {
            diffs.push(
              `${name}.${value}: missing from ours`,
            );
          }
        }
      }
      expect(diffs).toEqual([]);
    },
  );

  test.skipIf(!HAVE_UPSTREAM)(
    "sample messages encode to identical bytes and decode across",
    () => {
      const upRoot = upstreamRoot();
      const up = indexRoot(upRoot);
      const toObj: protobuf.IConversionOptions = {
        longs: String,
        enums: String,
        bytes: String,
        defaults: false,
        oneofs: true,
        json: false,
      };
      const diffs: string[] = [];
      let checked = 0;
      for (const [name, type] of ourIndex.types) {
        const upType = up.types.get(name);
        if (!upType) continue; // reported elsewhere
        const variants = Math.max(
          1,
          ...type.oneofsArray.map((o) => o.fieldsArray.length),
        );
        for (let v = 0; v < variants; v++) {
          const sample = sampleObject(type, v, 0);
          const ourBytes = type.encode(type.fromObject(sample)).finish();
          const upBytes = upType.encode(upType.fromObject(sample)).finish();
          if (
            Buffer.compare(Buffer.from(ourBytes), Buffer.from(upBytes)) !== 0
          ) {
            diffs.push(`${name} (variant ${v}): encodings differ`);
            continue;
          }
          const viaUpstream = upType.toObject(upType.decode(ourBytes), toObj);
          const viaOurs = type.toObject(type.decode(upBytes), toObj);
          if (JSON.stringify(viaUpstream) !== JSON.stringify(viaOurs)) {
            diffs.push(`${name} (variant ${v}): decoded objects differ`);
          }
          checked++;
        }
      }
      expect(diffs).toEqual([]);
      expect(checked).toBeGreaterThanOrEqual(ourIndex.types.size);
    },
  );
});

// ---------------------------------------------------------------- sample data

/** A deterministic object that sets every field (one member per oneof, picked by `variant`). */
function sampleObject(
  type: protobuf.Type,
  variant: number,
  depth: number,
): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  if (type.fullName === ".google.protobuf.Any") {
    return {
      type_url: "talos/runtime/machine.RestartEvent",
      value: new Uint8Array([8, 1]),
    };
  }
  for (const f of type.fieldsArray) {
    f.resolve();
    const oneof = f.partOf && f.options?.proto3_optional !== true ? f.partOf : null;
    if (oneof && oneof.fieldsArray[variant % oneof.fieldsArray.length] !== f) {
      continue;
    }
    const value = sampleValue(f, depth);
    if (value === undefined) continue;
    if (f instanceof protobuf.MapField) {
      obj[f.name] = { [sampleKey(f.keyType)]: value };
    } else if (f.repeated) obj[f.name] = [value, value];
    else obj[f.name] = value;
  }
  return obj;
}

function sampleKey(keyType: string): string {
  return keyType === "string" ? "key" : keyType === "bool" ? "true" : "7";
}

function sampleValue(f: protobuf.Field, depth: number): unknown {
  if (f.resolvedType instanceof protobuf.Enum) {
    const nums = Object.values(f.resolvedType.values);
    return Math.max(...nums); // non-default, so it is actually encoded
  }
  if (f.resolvedType instanceof protobuf.Type) {
    return depth >= 4 ? undefined : sampleObject(f.resolvedType, 0, depth + 1);
  }
  switch (f.type) {
    case "double":
      return 1.5;
    case "float":
      return 0.5;
    case "int32":
    case "sint32":
    case "sfixed32":
      return -42;
    case "uint32":
    case "fixed32":
      return 4000000000;
    case "int64":
    case "sint64":
    case "sfixed64":
      return "-9007199254740993";
    case "uint64":
    case "fixed64":
      return "18446744073709551615";
    case "bool":
      return true;
    case "string":
      return `${f.name}-value`;
    case "bytes":
      return new Uint8Array([0, 1, 2, 255]);
    default:
      throw new Error(`unhandled scalar type ${f.type} on ${f.fullName}`);
  }
}
