/**
 * @module `talos-mcp config <client>`: the entry that registers this binary with
 * an MCP client, printed, or with --write merged into the client's config file
 * next to the servers already there. A file that does not parse is refused,
 * never overwritten; the old file is kept as <file>.bak and the new one is
 * written to a temporary file and renamed, so a crash leaves one or the other.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

export const CLIENTS = ["claude-code", "claude-desktop", "cursor", "vscode", "codex", "gemini"] as const;
export type ClientName = typeof CLIENTS[number];

/** What to run: the compiled binary itself, or bun with main.ts when run from source. */
function selfCommand(
  execPath = process.execPath,
  script = process.argv[1],
): { command: string; args: string[] } {
  const dev = /^bun(\.exe)?$/i.test(basename(execPath)) && script && /\.ts$/.test(script);
  return dev ? { command: execPath, args: [resolve(script)] } : { command: execPath, args: [] };
}

interface Entry {
  command: string;
  args: string[];
  env: Record<string, string>;
}

type Env = Record<string, string | undefined>;

/** Where each client keeps its user-level MCP servers. */
export function configPath(client: ClientName, env: Env = process.env, platform = process.platform): string {
  const home = env.HOME || env.USERPROFILE || homedir();
  const appData = platform === "win32"
    ? env.APPDATA ?? join(home, "AppData/Roaming")
    : platform === "darwin"
    ? join(home, "Library/Application Support")
    : env.XDG_CONFIG_HOME ?? join(home, ".config");
  switch (client) {
    case "claude-code":
      return join(home, ".claude.json");
    case "claude-desktop":
      return join(appData, "Claude", "claude_desktop_config.json");
    case "cursor":
      return join(home, ".cursor", "mcp.json");
    case "vscode":
      return join(appData, "Code", "User", "mcp.json");
    case "codex":
      return join(env.CODEX_HOME ?? join(home, ".codex"), "config.toml");
    case "gemini":
      return join(home, ".gemini", "settings.json");
  }
}

/** The JSON key holding servers: VS Code says `servers`, the others `mcpServers`. */
const jsonKey = (client: ClientName) => client === "vscode" ? "servers" : "mcpServers";

function jsonEntry(client: ClientName, e: Entry): Record<string, unknown> {
  // VS Code and Claude Code name the transport; the others assume stdio for a command.
  const base: Record<string, unknown> = client === "vscode" || client === "claude-code" ? { type: "stdio" } : {};
  return { ...base, command: e.command, args: e.args, ...(Object.keys(e.env).length ? { env: e.env } : {}) };
}

const tomlString = (s: string) => JSON.stringify(s); // a JSON string is a valid TOML basic string

function tomlBlock(name: string, e: Entry): string {
  const lines = [`[mcp_servers.${name}]`, `command = ${tomlString(e.command)}`];
  lines.push(`args = [${e.args.map(tomlString).join(", ")}]`);
  const env = Object.entries(e.env);
  if (env.length) lines.push(`env = { ${env.map(([k, v]) => `${k} = ${tomlString(v)}`).join(", ")} }`);
  return lines.join("\n") + "\n";
}

/** The snippet to paste (or the command to run, for Claude Code). */
export function render(client: ClientName, name: string, e: Entry): string {
  if (client === "codex") return tomlBlock(name, e);
  const json = JSON.stringify({ [jsonKey(client)]: { [name]: jsonEntry(client, e) } }, null, 2) + "\n";
  if (client !== "claude-code") return json;
  const envFlags = Object.entries(e.env).map(([k, v]) => `-e ${k}=${shellQuote(v)} `).join("");
  return `claude mcp add --scope user ${name} ${envFlags}-- ${[e.command, ...e.args].map(shellQuote).join(" ")}\n`;
}

const shellQuote = (s: string) => /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;

/** Merges the entry into the text of a config file; throws when the file does not parse. */
export function merge(client: ClientName, text: string | undefined, name: string, e: Entry): {
  text: string;
  action: "added" | "replaced";
} {
  if (client === "codex") {
    const old = text ?? "";
    try {
      Bun.TOML.parse(old);
    } catch (err) {
      throw new Error(`it is not valid TOML (${(err as Error).message}); fix or move it, nothing was changed`);
    }
    const header = new RegExp(`^\\[mcp_servers\\.${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\]\\s*$`, "m");
    const m = header.exec(old);
    if (!m) {
      const sep = old === "" || old.endsWith("\n\n") ? "" : old.endsWith("\n") ? "\n" : "\n\n";
      return { text: old + sep + tomlBlock(name, e), action: "added" };
    }
    // The table runs to the next table header; sub-tables of this server ([mcp_servers.talos.env]) go with it.
    const rest = old.slice(m.index + m[0].length);
    const next = new RegExp(`^\\[(?!mcp_servers\\.${name}\\.)`, "m").exec(rest);
    const end = next ? m.index + m[0].length + next.index : old.length;
    return {
      text: old.slice(0, m.index) + tomlBlock(name, e) + (next ? "\n" : "") + old.slice(end),
      action: "replaced",
    };
  }
  let doc: Record<string, any> = {};
  if (text !== undefined && text.trim() !== "") {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new Error(`it is not valid JSON (${(err as Error).message}); fix or move it, nothing was changed`);
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
      throw new Error("it is not a JSON object; nothing was changed");
    }
  }
  const key = jsonKey(client);
  const servers = doc[key] ?? {};
  if (typeof servers !== "object" || Array.isArray(servers)) throw new Error(`its "${key}" is not an object`);
  const action = name in servers ? "replaced" : "added";
  doc[key] = { ...servers, [name]: jsonEntry(client, e) };
  return { text: JSON.stringify(doc, null, 2) + "\n", action };
}

/** Writes `text` to `file` through a temporary file and a rename; keeps the old file as <file>.bak. */
function writeAtomic(file: string, text: string): string | undefined {
  mkdirSync(dirname(file), { recursive: true });
  let backup: string | undefined;
  if (existsSync(file)) {
    backup = `${file}.bak`;
    copyFileSync(file, backup);
  }
  // A fresh, unguessable name created exclusively ("wx": never through a planted file or link), on disk
  // before it replaces the config.
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return backup;
}

const USAGE = `Usage: talos-mcp config <client> [--write] [--file PATH] [--name talos]
                        [--talosconfig PATH] [--context NAME] [--read-only]
Clients: ${CLIENTS.join(", ")}.
Prints the entry that runs this binary; --write merges it into the client's config file
(other servers kept, the old file saved as <file>.bak) and says what changed.
`;

/** The `config` subcommand; returns the exit code. */
export function runConfigCli(
  argv: string[],
  env: Env = process.env,
  out = process.stdout,
  err = process.stderr,
): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        write: { type: "boolean" },
        file: { type: "string" },
        name: { type: "string", default: "talos" },
        talosconfig: { type: "string" },
        context: { type: "string" },
        "read-only": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    err.write(`talos-mcp config: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  const client = positionals[0] as ClientName;
  if (!CLIENTS.includes(client) || positionals.length > 1) {
    err.write(
      `talos-mcp config: ${client ? `unknown client "${positionals.join(" ")}"` : "which client?"}\n\n${USAGE}`,
    );
    return 2;
  }
  if (!/^[A-Za-z0-9_-]+$/.test(values.name!)) {
    err.write(`talos-mcp config: --name must be letters, digits, _ or -\n`);
    return 2;
  }
  const entryEnv: Record<string, string> = {};
  if (values.talosconfig) entryEnv.TALOSCONFIG = resolve(values.talosconfig);
  if (values.context) entryEnv.TALOS_CONTEXT = values.context;
  if (values["read-only"]) entryEnv.TALOS_MCP_READ_ONLY = "true";
  const entry: Entry = { ...selfCommand(), env: entryEnv };
  if (!values.write) {
    out.write(render(client, values.name!, entry));
    return 0;
  }
  const file = values.file ? resolve(values.file) : configPath(client, env);
  const before = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  let merged;
  try {
    merged = merge(client, before, values.name!, entry);
  } catch (e) {
    err.write(`talos-mcp config: refusing to change ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  const backup = writeAtomic(file, merged.text);
  const where = client === "codex" ? `[mcp_servers.${values.name}]` : `${jsonKey(client)}.${values.name}`;
  out.write(`${merged.action} ${where} in ${file}${backup ? ` (previous file: ${backup})` : " (new file)"}\n`);
  out.write(
    client === "codex"
      ? tomlBlock(values.name!, entry)
      : JSON.stringify({ [values.name!]: jsonEntry(client, entry) }, null, 2) + "\n",
  );
  return 0;
}
