/**
 * @module server.json for the official MCP Registry: rendered from one place
 * (the npm launcher, the OCI image and one MCPB bundle per released platform),
 * stamped at release with the version and each bundle's sha256 from that
 * release's checksums.txt, and validated against the registry's dated schema
 * (schemas/mcp-server-2025-12-11.schema.json) plus the ownership rules the
 * registry checks on publish.
 *
 *   bun scripts/server_json.ts --template                       rewrite the committed server.json (unstamped)
 *   bun scripts/server_json.ts --version v1.2.3 --checksums dist/checksums.txt [--repository o/n]
 *   bun scripts/server_json.ts --check [server.json]            validate; --stamped also refuses placeholders
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { bundleName } from "./mcpb.ts";
import { PLATFORMS } from "./platforms.ts";

const ROOT = resolve(import.meta.dir, "..");
export const SERVER_JSON = join(ROOT, "server.json");
export const SCHEMA_FILE = join(ROOT, "schemas/mcp-server-2025-12-11.schema.json");
export const SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";
/** The registry name: io.github.<owner> is the namespace GitHub OIDC login proves. */
export const SERVER_NAME = "io.github.talos-mcp/talos-mcp";
export const UNSTAMPED = "0.0.0-unstamped";
/** Stands for a bundle's sha256 until the release stamps it; a stamped file must not contain it. */
export const PLACEHOLDER_SHA = "0".repeat(64);

type Doc = Record<string, any>;

/** checksums.txt (`<sha256>  <name>` lines) as a name → sha256 map. */
export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]{64}) [ *]?(\S+)$/.exec(line.trim());
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

/** The whole server.json for `version`; bundle hashes from `sums` (placeholders when null, for the template). */
export function renderServerJson(
  version: string,
  sums: Map<string, string> | null,
  repository = "talos-mcp/talos-mcp",
): Doc {
  const env = [
    {
      name: "TALOSCONFIG",
      description: "talosconfig file; default: talosctl's lookup (~/.talos/config)",
      format: "filepath",
    },
    { name: "TALOS_CONTEXT", description: "talosconfig context used when a call names none" },
    { name: "TALOS_MCP_READ_ONLY", description: "true: offer no tool that changes a cluster", format: "boolean" },
  ];
  const bundles = PLATFORMS.map((p) => {
    const file = bundleName(p);
    const sha = sums ? sums.get(file) : PLACEHOLDER_SHA;
    if (!sha) throw new Error(`server_json: ${file} is not in checksums.txt`);
    return {
      registryType: "mcpb",
      identifier: `https://github.com/${repository}/releases/download/v${version}/${file}`,
      version,
      fileSha256: sha,
      transport: { type: "stdio" },
    };
  });
  return {
    $schema: SCHEMA_URL,
    name: SERVER_NAME,
    title: "Talos Linux",
    description: "Inspect and manage Talos Linux clusters through the Talos API, with guards and read-only mode",
    version,
    repository: { url: `https://github.com/${repository}`, source: "github" },
    websiteUrl: `https://github.com/${repository}#readme`,
    packages: [
      {
        registryType: "npm",
        registryBaseUrl: "https://registry.npmjs.org",
        identifier: "talos-mcp",
        version,
        runtimeHint: "npx",
        transport: { type: "stdio" },
        environmentVariables: env,
      },
      {
        registryType: "oci",
        identifier: `ghcr.io/${repository.toLowerCase()}:${version}`,
        runtimeHint: "docker",
        // The image runs stdio by default; the talosconfig goes in read-only where the server looks in a pod.
        runtimeArguments: [
          {
            type: "named",
            name: "--mount",
            value: "type=bind,src={talosconfig},dst=/var/run/secrets/talos.dev/config,readonly",
            variables: {
              talosconfig: { description: "Path of your talosconfig", isRequired: true, format: "filepath" },
            },
          },
        ],
        transport: { type: "stdio" },
        environmentVariables: env.filter((e) => e.name !== "TALOSCONFIG"),
      },
      ...bundles,
    ],
  };
}

let compiled: ReturnType<Ajv["compile"]> | undefined;

/** Schema errors, then the rules the registry applies on publish; [] when the document is fine. */
export function validateServerJson(doc: Doc, opts: { stamped?: boolean; launcher?: Doc } = {}): string[] {
  if (!compiled) {
    // draft-07, as the schema declares; its `example` annotations are not keywords ajv knows.
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    compiled = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")));
  }
  const problems = compiled(doc)
    ? []
    : (compiled.errors ?? []).map((e) => `schema: ${e.instancePath || "/"} ${e.message}`);
  if (doc.$schema !== SCHEMA_URL) problems.push(`$schema is ${doc.$schema}, not ${SCHEMA_URL}`);
  const launcher = opts.launcher ?? JSON.parse(readFileSync(join(ROOT, "npm/package.json"), "utf8"));
  if (launcher.mcpName !== doc.name) {
    problems.push(`npm/package.json mcpName ${launcher.mcpName} is not the server name ${doc.name}`);
  }
  const pkgs: Doc[] = Array.isArray(doc.packages) ? doc.packages : [];
  for (const type of ["npm", "oci", "mcpb"]) {
    if (!pkgs.some((p) => p.registryType === type)) problems.push(`packages: no ${type} package`);
  }
  for (const p of pkgs) {
    const at = `packages (${p.registryType} ${p.identifier})`;
    if (p.registryType === "npm" && p.identifier !== launcher.name) {
      problems.push(`${at}: the launcher is published as ${launcher.name}`);
    }
    if (p.registryType === "npm" && p.version !== doc.version) problems.push(`${at}: version is not ${doc.version}`);
    if (p.registryType === "oci" && !String(p.identifier).endsWith(`:${doc.version}`)) {
      problems.push(`${at}: tag is not the version ${doc.version}`);
    }
    if (p.registryType === "mcpb") {
      if (!p.fileSha256) problems.push(`${at}: MCPB packages need fileSha256`);
      if (!String(p.identifier).includes("mcp")) problems.push(`${at}: the registry wants "mcp" in MCPB URLs`);
      if (!String(p.identifier).includes(`/releases/download/v${doc.version}/`)) {
        problems.push(`${at}: not this version's release asset`);
      }
      if (opts.stamped && p.fileSha256 === PLACEHOLDER_SHA) problems.push(`${at}: fileSha256 is the placeholder`);
    }
  }
  const bundles = pkgs.filter((p) => p.registryType === "mcpb").map((p) => String(p.identifier).split("/").pop());
  const want = PLATFORMS.map(bundleName);
  if (JSON.stringify([...bundles].sort()) !== JSON.stringify([...want].sort())) {
    problems.push(`packages: MCPB bundles ${bundles.join(", ")} differ from scripts/platforms.ts (${want.join(", ")})`);
  }
  if (opts.stamped && doc.version === UNSTAMPED) problems.push("version is unstamped");
  return problems;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      template: { type: "boolean" },
      check: { type: "boolean" },
      stamped: { type: "boolean" },
      version: { type: "string" },
      checksums: { type: "string" },
      repository: { type: "string", default: "talos-mcp/talos-mcp" },
      out: { type: "string", default: SERVER_JSON },
    },
  });
  const fail = (problems: string[], file: string) => {
    for (const p of problems) console.error(`${file}: ${p}`);
    if (problems.length) process.exit(1);
  };
  if (values.check) {
    const file = positionals[0] ?? SERVER_JSON;
    fail(validateServerJson(JSON.parse(readFileSync(file, "utf8")), { stamped: values.stamped }), file);
    console.error(`${file}: ok`);
  } else if (values.template) {
    writeFileSync(values.out!, JSON.stringify(renderServerJson(UNSTAMPED, null), null, 2) + "\n");
  } else {
    const version = values.version?.replace(/^v/, "");
    if (!version || !values.checksums) {
      console.error("usage: server_json.ts --version <semver> --checksums <checksums.txt> [--repository o/n]");
      process.exit(2);
    }
    const doc = renderServerJson(version, parseChecksums(readFileSync(values.checksums, "utf8")), values.repository);
    fail(validateServerJson(doc, { stamped: true }), values.out!);
    writeFileSync(values.out!, JSON.stringify(doc, null, 2) + "\n");
    console.error(`stamped ${values.out}: ${SERVER_NAME}@${version}`);
  }
}
