/**
 * @module `talos-mcp config <client>` through the compiled binary: each client's
 * entry names the binary's real path, and --write merges into an existing
 * config (other servers and comments kept, a backup left, a bad file refused).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLIENTS, configPath } from "../../lib/client_config.ts";
import { BIN } from "../harness.ts";

const dir = mkdtempSync(join(tmpdir(), "talos-mcp-clientcfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(BIN, ["config", ...args], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("printed entries name the compiled binary", () => {
  const parsed: Record<string, (out: string) => any> = {
    "claude-desktop": (o) => JSON.parse(o).mcpServers.talos,
    cursor: (o) => JSON.parse(o).mcpServers.talos,
    gemini: (o) => JSON.parse(o).mcpServers.talos,
    vscode: (o) => JSON.parse(o).servers.talos,
    codex: (o) => (Bun.TOML.parse(o) as any).mcp_servers.talos,
  };
  for (const [client, pick] of Object.entries(parsed)) {
    test(client, () => {
      const r = run(client, "--read-only", "--talosconfig", "/etc/talos/config", "--context", "prod");
      expect(r.code).toBe(0);
      expect(pick(r.out)).toEqual({
        ...(client === "vscode" ? { type: "stdio" } : {}),
        command: BIN,
        args: [],
        env: { TALOSCONFIG: "/etc/talos/config", TALOS_CONTEXT: "prod", TALOS_MCP_READ_ONLY: "true" },
      });
    });
  }

  test("claude-code: the claude mcp add command", () => {
    const r = run("claude-code", "--read-only");
    expect(r.out).toBe(`claude mcp add --scope user talos -e TALOS_MCP_READ_ONLY=true -- ${BIN}\n`);
  });

  test("no variables when none are asked for; a chosen name", () => {
    expect(JSON.parse(run("cursor", "--name", "prod-talos").out)).toEqual({
      mcpServers: { "prod-talos": { command: BIN, args: [] } },
    });
  });

  test("an unknown client or a bad name is a usage error", () => {
    const r = run("emacs");
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown client "emacs"');
    expect(r.err).toContain(CLIENTS.join(", "));
    expect(run("cursor", "--name", "a b").code).toBe(2);
  });
});

describe("--write", () => {
  test("merges into an existing JSON config, keeping other servers and keys, with a backup", () => {
    const file = join(dir, "desktop.json");
    const before = JSON.stringify({ theme: "dark", mcpServers: { other: { command: "/bin/other" } } }, null, 2);
    writeFileSync(file, before);
    const r = run("claude-desktop", "--write", "--file", file, "--read-only");
    expect(r.code).toBe(0);
    expect(r.out).toStartWith(`added mcpServers.talos in ${file} (previous file: ${file}.bak)\n`);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      theme: "dark",
      mcpServers: {
        other: { command: "/bin/other" },
        talos: { command: BIN, args: [], env: { TALOS_MCP_READ_ONLY: "true" } },
      },
    });
    expect(readFileSync(`${file}.bak`, "utf8")).toBe(before);
    // Again: the entry is replaced, not duplicated.
    expect(run("claude-desktop", "--write", "--file", file).out).toStartWith(`replaced mcpServers.talos in ${file}`);
    expect(JSON.parse(readFileSync(file, "utf8")).mcpServers.talos).toEqual({ command: BIN, args: [] });
    expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).mcpServers)).toEqual(["other", "talos"]);
  });

  test("VS Code's servers key, and a new file where there was none (default location under HOME)", () => {
    const r = run("vscode", "--write");
    const file = configPath("vscode", { HOME: dir });
    expect(r.out).toStartWith(`added servers.talos in ${file} (new file)\n`);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      servers: { talos: { type: "stdio", command: BIN, args: [] } },
    });
  });

  test("merges into Codex's TOML, keeping other tables and comments, replacing its own table", () => {
    const file = join(dir, "config.toml");
    const before = [
      "# my settings",
      'model = "o3"',
      "",
      "[mcp_servers.other]",
      'command = "/bin/other"',
      "",
      "[mcp_servers.talos]",
      'command = "/old/talos-mcp"',
      "",
      "[mcp_servers.talos.env]",
      'TALOSCONFIG = "/old"',
      "",
      "[profiles.fast]",
      'model = "o4-mini"',
      "",
    ].join("\n");
    writeFileSync(file, before);
    const r = run("codex", "--write", "--file", file, "--context", "prod");
    expect(r.code).toBe(0);
    expect(r.out).toStartWith(`replaced [mcp_servers.talos] in ${file}`);
    const text = readFileSync(file, "utf8");
    expect(text).toStartWith("# my settings\n");
    expect(Bun.TOML.parse(text)).toEqual({
      model: "o3",
      mcp_servers: {
        other: { command: "/bin/other" },
        talos: { command: BIN, args: [], env: { TALOS_CONTEXT: "prod" } },
      },
      profiles: { fast: { model: "o4-mini" } },
    });
    expect(readFileSync(`${file}.bak`, "utf8")).toBe(before);
  });

  test("appends to a TOML file without the server", () => {
    const file = join(dir, "plain.toml");
    writeFileSync(file, 'model = "o3"\n');
    expect(run("codex", "--write", "--file", file).out).toStartWith(`added [mcp_servers.talos] in ${file}`);
    expect(Bun.TOML.parse(readFileSync(file, "utf8"))).toEqual({
      model: "o3",
      mcp_servers: { talos: { command: BIN, args: [] } },
    });
  });

  for (
    const [client, name, broken] of [
      ["cursor", "bad.json", '{ "mcpServers": { '],
      ["codex", "bad.toml", "[mcp_servers.x\ncommand = 1"],
      ["gemini", "array.json", "[]"],
    ]
  ) {
    test(`refuses ${name} that does not parse as a config, leaving it untouched`, () => {
      const file = join(dir, name);
      writeFileSync(file, broken);
      const r = run(client, "--write", "--file", file);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`refusing to change ${file}`);
      expect(readFileSync(file, "utf8")).toBe(broken);
      expect(existsSync(`${file}.bak`)).toBe(false);
    });
  }
});
