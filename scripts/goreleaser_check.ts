/**
 * @module Offline checks of .goreleaser.yaml: GoReleaser's JSON Schema (ajv,
 * draft 2020-12) plus what the schema cannot say about our bun builds and the
 * assets the launcher and the cask depend on. GoReleaser itself does not run here.
 *
 *   bun scripts/goreleaser_check.ts [.goreleaser.yaml]   prints problems, exits 1 if any
 */
import Ajv2020 from "ajv/dist/2020.js";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { renderTemplate } from "./goreleaser_template.ts";
import { PLATFORMS } from "./platforms.ts";

const ROOT = resolve(import.meta.dir, "..");

/** Where GoReleaser's published schema is: GORELEASER_SCHEMA, else shared/ beside the repository. */
export function schemaPath(env: Record<string, string | undefined> = process.env): string {
  return env.GORELEASER_SCHEMA ?? resolve(ROOT, "../shared/schemas/goreleaser.schema.json");
}

/**
 * The schema as one resource: GoReleaser's schema embeds sub-resources with
 * their own `$id` and `$defs` whose `$ref`s (`#/$defs/FileInfo`) point into
 * their own `$defs`; ajv resolves those against the root and recurses until
 * the stack overflows. Each embedded `$defs` entry is hoisted into the root's
 * `$defs` under a unique name and the references inside it are rewritten, and
 * the nested `$id`/`$schema` are dropped, which keeps the meaning.
 */
export function normaliseSchema(schema: any): any {
  const hoisted: Record<string, unknown> = {};
  const walk = (node: any, names: Record<string, string>): any => {
    if (Array.isArray(node)) return node.map((n) => walk(n, names));
    if (node === null || typeof node !== "object") return node;
    let scope = names;
    if (typeof node.$id === "string") {
      const prefix = node.$id.replace(/^.*\//, "").replace(/[^A-Za-z0-9]+/g, "_");
      scope = { ...names };
      for (const name of Object.keys(node.$defs ?? {})) scope[name] = `${prefix}__${name}`;
      for (const [name, def] of Object.entries(node.$defs ?? {})) hoisted[scope[name]] = walk(def, scope);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === "$id" || k === "$schema" || (k === "$defs" && scope !== names)) continue;
      const ref = k === "$ref" && typeof v === "string" ? /^#\/\$defs\/(.+)$/.exec(v) : null;
      out[k] = ref ? `#/$defs/${scope[ref[1]] ?? ref[1]}` : walk(v, scope);
    }
    return out;
  };
  const { $defs = {}, ...rest } = schema;
  const root = walk({ ...rest, $defs: {} }, {});
  root.$defs = Object.fromEntries(Object.entries($defs).map(([k, v]) => [k, walk(v, {})]));
  Object.assign(root.$defs, hoisted);
  root.$schema = schema.$schema;
  root.$id = schema.$id;
  return root;
}

/** Bun compile targets GoReleaser's bun builder accepts (without the `bun-` prefix). */
export const BUN_TARGETS = [
  "linux-x64",
  "linux-x64-modern",
  "linux-x64-baseline",
  "linux-x64-musl",
  "linux-x64-musl-modern",
  "linux-x64-musl-baseline",
  "linux-arm64",
  "linux-arm64-modern",
  "linux-arm64-musl",
  "windows-x64",
  "windows-x64-modern",
  "windows-x64-baseline",
  "darwin-x64",
  "darwin-x64-modern",
  "darwin-x64-baseline",
  "darwin-arm64",
  "darwin-arm64-modern",
];

/** Build keys that only the Go builder understands; GoReleaser rejects them on a bun build. */
export const GO_ONLY_KEYS = [
  "goos",
  "goarch",
  "goamd64",
  "go386",
  "goarm",
  "goarm64",
  "gomips",
  "goppc64",
  "goriscv64",
  "gobinary",
  "ldflags",
  "gcflags",
  "asmflags",
  "tags",
  "buildmode",
  "ignore",
];

type Validate = ((data: unknown) => boolean) & {
  errors?: Array<{ instancePath: string; message?: string; params?: any }> | null;
};
let compiled: { path: string; validate: Validate } | undefined;

function schemaValidator(path: string): Validate {
  if (compiled?.path === path) return compiled.validate;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(normaliseSchema(JSON.parse(readFileSync(path, "utf8")))) as Validate;
  compiled = { path, validate };
  return validate;
}

/** GoReleaser's name for a platform's arch in templates (`.Arch` is GOARCH for bun builds too). */
function templateVars(config: any, os: string, goarch: string) {
  return { ProjectName: config.project_name ?? "", Version: "0.0.0", Os: os, Arch: goarch, Env: {} };
}

/** Every problem found in the config text (empty when it passes). */
export function checkGoreleaser(text: string, schema = schemaPath()): string[] {
  const problems: string[] = [];
  let config: any;
  try {
    config = parse(text);
  } catch (err) {
    return [`not YAML: ${(err as Error).message}`];
  }
  const validate = schemaValidator(schema);
  if (!validate(config)) {
    for (const e of validate.errors ?? []) {
      const extra = e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : "";
      problems.push(`schema: ${e.instancePath || "/"} ${e.message}${extra}`);
    }
  }
  if (config?.brews) problems.push("brews is deprecated: use homebrew_casks");

  const builds: any[] = config?.builds ?? [];
  if (!builds.length) problems.push("no builds");
  for (const [i, b] of builds.entries()) {
    const at = `builds[${i}] (${b.id ?? "no id"})`;
    if (b.builder !== "bun") problems.push(`${at}: builder must be bun, not ${b.builder ?? "the default go"}`);
    for (const key of GO_ONLY_KEYS) {
      if (key in b) problems.push(`${at}: ${key} is a Go-only key; the bun builder rejects it`);
    }
    for (const t of b.targets ?? []) {
      if (!BUN_TARGETS.includes(String(t).replace(/^bun-/, ""))) {
        problems.push(`${at}: ${t} is not a bun target GoReleaser accepts`);
      }
    }
    const want = PLATFORMS.map((p) => p.bunTarget.replace(/^bun-/, "")).sort();
    const got = (b.targets ?? []).map((t: string) => String(t).replace(/^bun-/, "")).sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      problems.push(`${at}: targets ${got.join(", ")} differ from scripts/platforms.ts (${want.join(", ")})`);
    }
    if (b.flags !== undefined) {
      const flags: string[] = Array.isArray(b.flags) ? b.flags : [b.flags];
      if (!flags.includes("--compile")) {
        problems.push(`${at}: flags replace GoReleaser's default --compile, so list it`);
      }
      for (const define of ["TALOS_MCP_VERSION", "TALOS_MCP_COMMIT"]) {
        if (!flags.some((f) => f.startsWith(`--define=${define}=`))) {
          problems.push(`${at}: flags do not stamp ${define}`);
        }
      }
    } else {
      problems.push(`${at}: no flags, so no --minify/--bytecode and no version stamp`);
    }
    const post = [b.hooks?.post ?? []].flat().map((h: any) => typeof h === "string" ? h : h.cmd ?? "");
    if (!post.some((c: string) => c.includes("adhoc_sign.sh"))) {
      problems.push(`${at}: no post-build hook re-signs macOS binaries`);
    }
    // The bundle must wrap the signed binary: its hook comes after the signing one.
    const mcpb = post.findIndex((c: string) => c.includes("scripts/mcpb.ts"));
    if (mcpb < 0) problems.push(`${at}: no post-build hook packs the MCPB bundle`);
    else if (mcpb < post.findIndex((c: string) => c.includes("adhoc_sign.sh"))) {
      problems.push(`${at}: the MCPB hook runs before the re-signing hook`);
    }
  }

  const archives: any[] = config?.archives ?? [];
  const bare = archives.find((a) => (a.formats ?? [a.format]).includes("binary"));
  if (!bare) problems.push("archives: no bare-binary archive (formats: [binary]) for the npm launcher");
  else {
    for (const p of PLATFORMS) {
      const name = renderTemplate(bare.name_template ?? "", templateVars(config, p.os, p.goarch)) +
        (p.os === "windows" ? ".exe" : "");
      if (name !== p.asset) {
        problems.push(`archives: bare binary for ${p.id} would be ${name}, the launcher fetches ${p.asset}`);
      }
    }
  }
  const packed = archives.filter((a) => a !== bare);
  if (!packed.some((a) => (a.formats ?? [a.format]).includes("tar.gz"))) problems.push("archives: no tar.gz archive");
  for (const a of packed) {
    const win = (a.format_overrides ?? []).find((o: any) => o.goos === "windows");
    if (!win || !(win.formats ?? [win.format]).includes("zip")) {
      problems.push(`archives (${a.id}): Windows must be zip`);
    }
  }
  if (config?.checksum?.name_template !== "checksums.txt" || (config?.checksum?.algorithm ?? "sha256") !== "sha256") {
    problems.push("checksum: the launcher and attestations expect a sha256 checksums.txt");
  }
  // MCPB bundles are released and listed in checksums.txt (attested, and server.json takes their sha256 from it).
  const globs = (files: any[] | undefined) => (files ?? []).map((f) => f.glob ?? "");
  if (!globs(config?.release?.extra_files).some((g) => g.endsWith(".mcpb"))) {
    problems.push("release: extra_files does not upload the MCPB bundles");
  }
  if (!globs(config?.checksum?.extra_files).some((g) => g.endsWith(".mcpb"))) {
    problems.push("checksum: extra_files does not list the MCPB bundles");
  }
  const casks: any[] = config?.homebrew_casks ?? [];
  if (!casks.length) problems.push("homebrew_casks: none");
  for (const c of casks) {
    if (!c.repository?.owner || !c.repository?.name) problems.push(`homebrew_casks (${c.name}): no tap repository`);
    if (!(c.binaries ?? []).includes("talos-mcp")) {
      problems.push(`homebrew_casks (${c.name}): does not install the talos-mcp binary`);
    }
  }
  if (!config?.snapshot?.version_template) problems.push("snapshot: no version_template");
  if (!config?.changelog || config.changelog.disable === true) problems.push("changelog: disabled");
  return problems;
}

if (import.meta.main) {
  const file = process.argv[2] ?? resolve(ROOT, ".goreleaser.yaml");
  const schema = schemaPath();
  if (!existsSync(schema)) {
    console.error(`goreleaser_check: no schema at ${schema}; set GORELEASER_SCHEMA`);
    process.exit(2);
  }
  const problems = checkGoreleaser(readFileSync(file, "utf8"), schema);
  for (const p of problems) console.error(`${file}: ${p}`);
  if (problems.length) process.exit(1);
  console.error(`${file}: ok`);
}
