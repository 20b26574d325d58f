/**
 * @module Offline validation of a Talos machine config (YAML or JSON, one or
 * more documents): YAML syntax, each document's kind, fields and types against
 * the compact schema, then the semantic checks (lib/talos/config_semantics.ts).
 * Pure: no I/O. Issues name the document, the field path and the line, never a
 * value from the input (values may be keys or tokens).
 */
import { type Document, LineCounter, parseAllDocuments } from "yaml";
import { checkSchema, closest, CONFIG_SCHEMA, type PathSeg } from "./config_schema_check.ts";
import { type Doc, semanticChecks, type ValidateMode } from "./config_semantics.ts";

export type { ValidateMode } from "./config_semantics.ts";

export interface Issue {
  /** 0-based position of the document in the input. */
  document: number;
  /** The document's kind; "v1alpha1" for the main document, "" when it could not be told. */
  kind: string;
  /** Field path inside the document (e.g. machine.install.disk, cluster.network.podSubnets[0]); "" for the whole. */
  path: string;
  /** 1-based line in the input, when known. */
  line?: number;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  errors: Issue[];
  warnings: Issue[];
  /** Issues left out beyond MAX_ISSUES per list (a config broken everywhere says so once). */
  omitted?: number;
}

export interface ValidateOptions {
  mode: ValidateMode;
  /** Warnings count as errors. */
  strict: boolean;
}

const MAX_ISSUES = 200;

/** Known document kinds (from the schema), for messages and the tool's description. */
const DOCUMENT_KINDS: readonly string[] = Object.keys(CONFIG_SCHEMA.kinds);

/** A key as it may be shown: structural, but bounded, since it comes from the input. */
function shown(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}

function formatPath(path: PathSeg[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(shown(seg))}]`;
  }
  return out;
}

/** Validates a machine config. See Issue for what each finding carries. */
export function validateMachineConfig(text: string, opts: ValidateOptions): ValidationResult {
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  const lines = new LineCounter();
  const lineOf = (offset: number) => lines.linePos(offset).line;
  const docs: Doc[] = [];
  const yamlDocs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true });
  const list = Array.isArray(yamlDocs) ? yamlDocs : [];

  const issueAt = (index: number, kind: string, yamlDoc: Document | undefined, path: PathSeg[], message: string) => {
    const issue: Issue = { document: index, kind, path: formatPath(path), message };
    const line = yamlDoc && lineOfPath(yamlDoc, path, lineOf);
    if (line) issue.line = line;
    return issue;
  };

  list.forEach((yamlDoc, index) => {
    if (yamlDoc.errors.length) {
      for (const err of yamlDoc.errors) {
        // The first line names the problem; the rest quotes the input, which may hold secrets.
        const message = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        const issue: Issue = { document: index, kind: "", path: "", message: `YAML syntax: ${message}` };
        if (err.linePos?.[0]) issue.line = err.linePos[0].line;
        errors.push(issue);
      }
      return;
    }
    let value: unknown;
    try {
      value = yamlDoc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      errors.push(issueAt(index, "", yamlDoc, [], `YAML: ${(err as Error).message.split("\n")[0]}`));
      return;
    }
    if (value === null || value === undefined) return; // an empty document (e.g. after a trailing ---)
    const kind = kindOf(value);
    if ("problem" in kind) {
      errors.push(issueAt(index, kind.kind ?? "", yamlDoc, kind.path, kind.problem));
      return;
    }
    const doc: Doc = { index, kind: kind.kind, value: value as Record<string, unknown> };
    docs.push(doc);
    const def = kind.kind === "v1alpha1" ? CONFIG_SCHEMA.v1alpha1 : CONFIG_SCHEMA.kinds[kind.kind];
    checkSchema(
      { $ref: def },
      value,
      [],
      (path, message) => errors.push(issueAt(index, kind.kind, yamlDoc, path, message)),
    );
  });

  // Talos identifies a document by kind and name: a second one is rejected, not merged.
  const seen = new Map<string, number>();
  for (const d of docs) {
    const name = typeof d.value.name === "string" ? d.value.name : "";
    const id = `${d.kind}\0${name}`;
    const first = seen.get(id);
    if (first === undefined) seen.set(id, d.index);
    else {
      errors.push(issueAt(
        d.index,
        d.kind,
        list[d.index],
        [],
        `duplicate document: ${d.kind}${name ? ` named ${JSON.stringify(shown(name))}` : ""} is already ` +
          `document ${first}; merge them into one`,
      ));
    }
  }

  for (const f of semanticChecks(docs, opts.mode)) {
    (f.severity === "error" ? errors : warnings).push(
      issueAt(f.doc.index, f.doc.kind, list[f.doc.index], f.path, f.message),
    );
  }

  if (opts.strict) errors.push(...warnings.splice(0).map((w) => ({ ...w, message: `${w.message} (strict)` })));
  // In reading order, so an agent fixes the input top to bottom.
  const order = (a: Issue, b: Issue) => a.document - b.document || (a.line ?? 0) - (b.line ?? 0);
  errors.sort(order);
  warnings.sort(order);
  const omitted = Math.max(0, errors.length - MAX_ISSUES) + Math.max(0, warnings.length - MAX_ISSUES);
  return {
    valid: errors.length === 0,
    errors: errors.slice(0, MAX_ISSUES),
    warnings: warnings.slice(0, MAX_ISSUES),
    ...(omitted ? { omitted } : {}),
  };
}

type KindResult = { kind: string } | { kind?: string; path: PathSeg[]; problem: string };

/** Which document this is: `version: v1alpha1` without kind, or apiVersion v1alpha1 with a known kind. */
function kindOf(value: unknown): KindResult {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    return {
      path: [],
      problem: "a document must be a mapping (key: value), e.g. the v1alpha1 config or a HostnameConfig",
    };
  }
  const doc = value as Record<string, unknown>;
  if (doc.kind === undefined) {
    if (doc.version === undefined) {
      return {
        path: [],
        problem: "a document needs either version: v1alpha1 (the main config) or apiVersion: v1alpha1 with a kind",
      };
    }
    if (doc.version !== "v1alpha1") return { path: ["version"], problem: "must be v1alpha1" };
    return { kind: "v1alpha1" };
  }
  if (typeof doc.kind !== "string") return { path: ["kind"], problem: "must be a string naming a document kind" };
  const kind = shown(doc.kind);
  if (!Object.hasOwn(CONFIG_SCHEMA.kinds, doc.kind)) {
    const guess = closest(doc.kind, DOCUMENT_KINDS as string[]);
    return {
      kind,
      path: ["kind"],
      problem: `unknown document kind ${JSON.stringify(kind)}` +
        (guess
          ? `; did you mean ${guess}?`
          : `; known kinds include HostnameConfig, LinkConfig, VolumeConfig, UserVolumeConfig`),
    };
  }
  if (doc.apiVersion !== "v1alpha1") return { kind, path: ["apiVersion"], problem: "must be v1alpha1" };
  return { kind: doc.kind };
}

/** The line of the deepest node on `path` that exists (a missing field points at its parent). */
function lineOfPath(doc: Document, path: PathSeg[], lineOf: (offset: number) => number): number | undefined {
  for (let i = path.length; i >= 0; i--) {
    const node = i === 0 ? doc.contents : doc.getIn(path.slice(0, i), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lineOf(range[0]);
  }
  return undefined;
}
