/**
 * @module talos_validate: checks a machine config offline (no cluster, no API
 * call) before it is applied, as Talos would when loading it.
 */
import * as v from "valibot";
import { ToolError } from "../errors.ts";
import { readLocalFile } from "../local_file.ts";
import { MAX_CONFIG_BYTES } from "../talos/machine_config_file.ts";
import { defineTool } from "./define.ts";

/** A machine config with every secret and a few extra documents is tens of KiB; 1 MiB is far beyond any real one. */

const issue = v.object({
  document: v.pipe(v.number(), v.description("0-based position of the document in the input")),
  kind: v.pipe(v.string(), v.description('Document kind; "v1alpha1" for the main document')),
  path: v.pipe(v.string(), v.description('Field path, e.g. machine.install.disk; "" for the whole document')),
  line: v.optional(v.pipe(v.number(), v.description("1-based line in the input"))),
  message: v.string(),
});

export const validateTool = defineTool({
  name: "talos_validate",
  title: "Config: validate machine config",
  description: "Validate a Talos machine config (YAML or JSON, multi-document) offline: YAML syntax, document " +
    "kinds, fields and types against the Talos 1.14 schema, and the checks Talos makes (https endpoint with " +
    "port, install disk in metal mode, CIDRs and IPs, PEM material, duplicate documents, deprecated fields). " +
    "Use before applying or patching a config; no cluster needed.",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  rpcs: [], // offline: reads the argument or a local file only
  input: {
    config: v.optional(
      v.pipe(
        v.string(),
        v.maxLength(MAX_CONFIG_BYTES, "config is at most 1 MiB"),
        v.maxBytes(MAX_CONFIG_BYTES, "config is at most 1 MiB (UTF-8)"),
        v.description("The machine config text (YAML or JSON; documents separated by ---). Give this or path."),
      ),
    ),
    path: v.optional(
      v.pipe(
        v.string(),
        v.minLength(2),
        v.maxLength(4096),
        v.check((p) => !p.includes("\0"), "a path has no NUL bytes"),
        v.description("Absolute path of a local config file (on the machine running talos-mcp), at most 1 MiB."),
      ),
    ),
    mode: v.optional(
      v.pipe(
        v.picklist(["metal", "cloud", "container"]),
        v.description("Platform mode, as talosctl validate --mode (default metal: needs an install disk)."),
      ),
      "metal",
    ),
    strict: v.optional(v.pipe(v.boolean(), v.description("Count warnings as errors (default false).")), false),
  },
  output: {
    valid: v.pipe(v.boolean(), v.description("true when there are no errors")),
    errors: v.array(issue),
    warnings: v.array(issue),
    omitted: v.optional(v.pipe(v.number(), v.description("Issues left out beyond 200 per list"))),
  },
  check: ({ config, path }) => {
    if ((config === undefined) === (path === undefined)) {
      throw new ToolError(
        "Give exactly one of config (the text) or path (an absolute local file path).",
        "INVALID_ARGUMENT",
      );
    }
  },
  run: async (args) => {
    const text = args.config ?? readLocalFile(args.path!, MAX_CONFIG_BYTES);
    // Loaded on first use: the validator and its schema would cost every session's start-up.
    const { validateMachineConfig } = await import("../talos/config_validate.ts");
    return { ...validateMachineConfig(text, { mode: args.mode, strict: args.strict }) };
  },
});
