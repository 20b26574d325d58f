/**
 * @module The policy file (TALOS_MCP_POLICY): parsed and validated as a whole, so that every mistake is
 * reported at once with its line and path (`policy.yaml:12: rules[0].nodes[1]: …`), before the file
 * replaces a policy in force. Pure: the tool names and toolsets come from the caller (the tool list sits
 * above this layer). The format and its meaning are in docs/policy.md.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { nodePolicy } from "./nodes.ts";
import { isProfile, type Profile, PROFILES } from "./profiles.ts";

/** Where a value was written, for refusals and errors. */
export interface Origin {
  line: number;
  path: string;
}

/** A tool pattern: a tool name, a toolset name, or a glob over tool names (`talos_etcd*`). */
export interface ToolPattern extends Origin {
  text: string;
  /** The tools it stands for (resolved against the catalog when parsed). */
  tools: ReadonlySet<string>;
}

export interface ToolFilter {
  /** Absent: every tool (the profile still applies). */
  allow?: ToolPattern[];
  deny: ToolPattern[];
  origin?: Origin;
}

/** A node a rule lets a tool target: an address entry (IP, CIDR, hostname) or a machine role. */
export type NodeEntry = Origin & ({ role: "worker" | "controlplane" } | { address: string });

/** A restriction on the calls of some tools; every rule whose tools include the called one must pass. */
export interface Rule extends Origin {
  name: string;
  tools: ToolPattern[];
  /** Contexts the tools may use; absent: any. */
  contexts?: string[];
  /** Nodes the tools may target; absent: any. */
  nodes?: NodeEntry[];
  /** Machine config paths (dotted, `machine.security`) a config change may not touch. */
  denyConfigPaths?: string[];
}

/** Who a grant is for: any listed subject, group or scope matches. */
export interface Grant extends Origin {
  name: string;
  subjects: string[];
  groups: string[];
  scopes: string[];
  profile?: Profile;
  tools: ToolFilter;
  rules: Rule[];
}

export interface Policy {
  /** The file, for messages. */
  source: string;
  profile?: Profile;
  tools: ToolFilter;
  rules: Rule[];
  grants: Grant[];
}

/** The tools the server knows, to resolve patterns and refuse names that match nothing. */
export interface Catalog {
  tools: readonly string[];
  toolsets: Readonly<Record<string, readonly string[]>>;
}

/** Every mistake in a policy file, one per line. */
export class PolicyError extends Error {
  constructor(readonly source: string, readonly problems: readonly string[]) {
    super(`policy file ${source} is invalid:\n  ${problems.join("\n  ")}`);
  }
}

const ROLES = ["worker", "controlplane"] as const;

/** Parses and checks `text`; throws PolicyError listing every problem with its line and path. */
export function parsePolicy(content: string, source: string, catalog: Catalog): Policy {
  const lines = new LineCounter();
  const doc = parseDocument(content, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const problems: string[] = [];
  const name = source.split("/").pop() ?? source;
  const lineOf = (n: Node | null | undefined) => (n?.range ? lines.linePos(n.range[0]).line : 1);
  const at = (n: Node | null | undefined, path: string): Origin => ({ line: lineOf(n), path: path || "(top)" });
  const fail = (n: Node | null | undefined, path: string, message: string) =>
    problems.push(`${name}:${lineOf(n)}: ${path || "(top)"}: ${message}`);

  for (const e of doc.errors) problems.push(`${name}:${lines.linePos(e.pos[0]).line}: ${e.message.split("\n")[0]}`);
  if (problems.length) throw new PolicyError(source, problems);

  /** The keys of a map, refusing any not in `known`. */
  const mapOf = (n: Node | null | undefined, path: string, known: readonly string[]): Map<string, Node | null> => {
    const out = new Map<string, Node | null>();
    if (!isMap(n)) {
      fail(n, path, `expected a map with ${known.join(", ")}`);
      return out;
    }
    for (const pair of (n as YAMLMap<Node, Node>).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      const keyPath = path ? `${path}.${key}` : key;
      if (!known.includes(key)) fail(pair.key, keyPath, `unknown key "${key}"; expected one of ${known.join(", ")}`);
      else out.set(key, pair.value ?? null);
    }
    return out;
  };

  const strings = (n: Node | null | undefined, path: string): Array<{ text: string; node: Node }> => {
    if (!isSeq(n)) {
      fail(n, path, "expected a list");
      return [];
    }
    const out: Array<{ text: string; node: Node }> = [];
    n.items.forEach((item, i) => {
      const it = item as Node;
      if (isScalar(it) && typeof it.value === "string" && it.value.trim()) {
        out.push({ text: it.value.trim(), node: it });
      } else fail(it, `${path}[${i}]`, "expected a non-empty string");
    });
    return out;
  };

  const str = (n: Node | null | undefined, path: string): string | undefined => {
    if (isScalar(n) && typeof n.value === "string" && n.value.trim()) return n.value.trim();
    fail(n, path, "expected a non-empty string");
    return undefined;
  };

  const profileOf = (n: Node | null | undefined, path: string): Profile | undefined => {
    if (n === undefined) return undefined;
    const v = isScalar(n) ? n.value : undefined;
    if (isProfile(v)) return v;
    fail(n, path, `"${String(v)}" is not a profile; use one of ${PROFILES.join(", ")}`);
    return undefined;
  };

  const patterns = (n: Node | null | undefined, path: string): ToolPattern[] =>
    strings(n, path).flatMap(({ text, node }, i) => {
      const tools = resolvePattern(text, catalog);
      if (!tools.size) {
        fail(
          node,
          `${path}[${i}]`,
          `"${text}" matches no tool; use a tool name (talos_reboot), a toolset (${
            Object.keys(catalog.toolsets).join(", ")
          }) or a glob (talos_etcd*)`,
        );
        return [];
      }
      return [{ text, tools, ...at(node, `${path}[${i}]`) }];
    });

  const filter = (n: Node | null | undefined, path: string): ToolFilter => {
    if (n === undefined) return { deny: [] };
    const m = mapOf(n, path, ["allow", "deny"]);
    return {
      ...(m.has("allow") ? { allow: patterns(m.get("allow"), `${path}.allow`) } : {}),
      deny: m.has("deny") ? patterns(m.get("deny"), `${path}.deny`) : [],
      origin: at(n, path),
    };
  };

  const nodeEntries = (n: Node | null | undefined, path: string): NodeEntry[] => {
    if (!isSeq(n)) {
      fail(n, path, "expected a list of IPs, CIDRs, hostnames or {role: worker|controlplane}");
      return [];
    }
    return n.items.flatMap((item, i): NodeEntry[] => {
      const it = item as Node;
      const p = `${path}[${i}]`;
      if (isMap(it)) {
        const role = mapOf(it, p, ["role"]).get("role");
        const v = isScalar(role) ? role.value : undefined;
        if ((ROLES as readonly unknown[]).includes(v)) return [{ role: v as "worker", ...at(it, p) }];
        fail(role ?? it, `${p}.role`, `"${String(v)}" is not a role; use worker or controlplane`);
        return [];
      }
      const address = isScalar(it) && typeof it.value === "string" ? it.value.trim() : "";
      try {
        nodePolicy([address]);
        return [{ address, ...at(it, p) }];
      } catch (err) {
        fail(it, p, `${(err as Error).message.replace('""', "empty entry")}; or use {role: worker|controlplane}`);
        return [];
      }
    });
  };

  const configPaths = (n: Node | null | undefined, path: string): string[] =>
    strings(n, path).flatMap(({ text, node }, i) => {
      if (/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(text)) return [text];
      fail(node, `${path}[${i}]`, `"${text}" is not a dotted config path (e.g. machine.security)`);
      return [];
    });

  const rules = (n: Node | null | undefined, path: string): Rule[] => {
    if (n === undefined) return [];
    if (!isSeq(n)) {
      fail(n, path, "expected a list of rules");
      return [];
    }
    return n.items.flatMap((item, i): Rule[] => {
      const p = `${path}[${i}]`;
      const m = mapOf(item as Node, p, ["name", "tools", "contexts", "nodes", "deny_config_paths"]);
      if (!isMap(item)) return [];
      const ruleName = m.has("name") ? str(m.get("name"), `${p}.name`) : undefined;
      if (!m.has("name")) fail(item as Node, p, "a rule needs a name (refusals quote it)");
      if (!m.has("tools")) fail(item as Node, p, "a rule needs tools: the tools it restricts");
      if (!m.has("contexts") && !m.has("nodes") && !m.has("deny_config_paths")) {
        fail(item as Node, p, "a rule restricts something: give contexts, nodes or deny_config_paths");
      }
      return [{
        name: ruleName ?? `#${i}`,
        ...at(item as Node, p),
        tools: m.has("tools") ? patterns(m.get("tools"), `${p}.tools`) : [],
        ...(m.has("contexts") ? { contexts: strings(m.get("contexts"), `${p}.contexts`).map((s) => s.text) } : {}),
        ...(m.has("nodes") ? { nodes: nodeEntries(m.get("nodes"), `${p}.nodes`) } : {}),
        ...(m.has("deny_config_paths")
          ? { denyConfigPaths: configPaths(m.get("deny_config_paths"), `${p}.deny_config_paths`) }
          : {}),
      }];
    });
  };

  const grants = (n: Node | null | undefined, path: string): Grant[] => {
    if (n === undefined) return [];
    if (!isSeq(n)) {
      fail(n, path, "expected a list of grants");
      return [];
    }
    return n.items.flatMap((item, i): Grant[] => {
      const p = `${path}[${i}]`;
      const keys = ["name", "subjects", "groups", "scopes", "profile", "tools", "rules"];
      const m = mapOf(item as Node, p, keys);
      if (!isMap(item)) return [];
      if (!m.has("name")) fail(item as Node, p, "a grant needs a name (refusals and audit lines quote it)");
      if (!m.has("subjects") && !m.has("groups") && !m.has("scopes")) {
        fail(item as Node, p, "a grant needs subjects, groups or scopes: whom it is for");
      }
      const list = (k: string) => (m.has(k) ? strings(m.get(k), `${p}.${k}`).map((s) => s.text) : []);
      return [{
        name: (m.has("name") ? str(m.get("name"), `${p}.name`) : undefined) ?? `#${i}`,
        ...at(item as Node, p),
        subjects: list("subjects"),
        groups: list("groups"),
        scopes: list("scopes"),
        ...(m.has("profile") ? { profile: profileOf(m.get("profile"), `${p}.profile`) } : {}),
        tools: filter(m.get("tools"), `${p}.tools`),
        rules: rules(m.get("rules"), `${p}.rules`),
      }];
    });
  };

  const root = doc.contents as Node | null;
  let policy: Policy = { source, tools: { deny: [] }, rules: [], grants: [] };
  if (root === null) {
    fail(null, "", "the file is empty; write at least a profile (see docs/policy.md)");
  } else {
    const top = mapOf(root, "", ["profile", "tools", "rules", "grants"]);
    policy = {
      source,
      ...(top.has("profile") ? { profile: profileOf(top.get("profile"), "profile") } : {}),
      tools: filter(top.get("tools"), "tools"),
      rules: rules(top.get("rules"), "rules"),
      grants: grants(top.get("grants"), "grants"),
    };
    const seen = new Map<string, number>();
    for (const g of policy.grants) {
      if (seen.has(g.name)) {
        problems.push(
          `${name}:${g.line}: ${g.path}.name: grant "${g.name}" is also defined on line ${seen.get(g.name)}`,
        );
      } else seen.set(g.name, g.line);
    }
  }
  if (problems.length) throw new PolicyError(source, problems);
  return policy;
}

/** The tools a pattern stands for: a toolset, a tool, or a glob (`*` any run, `?` one character). */
function resolvePattern(text: string, catalog: Catalog): Set<string> {
  const set = catalog.toolsets[text];
  if (set) return new Set(set);
  if (!/[*?]/.test(text)) return new Set(catalog.tools.includes(text) ? [text] : []);
  const re = new RegExp(`^${text.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
  return new Set(catalog.tools.filter((t) => re.test(t)));
}
