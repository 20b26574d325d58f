/**
 * @module The policy file in force: read and validated at start (a bad file stops the server), then
 * re-read when it changes (polled by stat, which also sees a Kubernetes ConfigMap's symlink swap that a
 * file watch misses) or on SIGHUP. A bad new file keeps the policy in force and logs every problem.
 */
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { log } from "../log.ts";
import { type Catalog, parsePolicy, type Policy, PolicyError } from "../policy/file.ts";
import { TOOLSET_OF, TOOLSETS } from "../tools/toolsets.ts";
import { ALL_TOOLS } from "../tools/mod.ts";

/** Said in the log once a new policy is in force (tests wait for it). */
const POLICY_RELOADED = "policy reloaded from";
/** Said in the log when a changed file is refused. */
const POLICY_KEPT = "policy file refused, the previous policy stays in force";

/** Every tool the binary has (not only those enabled), so a policy can name a tool enabled later. */
export function catalog(): Catalog {
  const toolsets: Record<string, string[]> = Object.fromEntries(TOOLSETS.map((s) => [s, []]));
  for (const t of ALL_TOOLS) toolsets[TOOLSET_OF[t.name]]?.push(t.name);
  return { tools: ALL_TOOLS.map((t) => t.name), toolsets };
}

export class PolicySource {
  #policy: Policy;
  #text: string;
  #listeners = new Set<() => void>();

  /** Reads and validates the file now; throws PolicyError (or the read error, naming the file). */
  constructor(readonly file: string, readonly pollMs = 1_000) {
    this.#text = read(file);
    this.#policy = parsePolicy(this.#text, file, catalog());
  }

  current(): Policy {
    return this.#policy;
  }

  /** Called after each reload that changed the policy (stdio: tools/list_changed). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Re-reads the file; true when a new policy is now in force. */
  reload(why: string): boolean {
    let text: string;
    try {
      text = read(this.file);
    } catch (err) {
      log("error", `${POLICY_KEPT}: ${(err as Error).message}`);
      return false;
    }
    if (text === this.#text) return false;
    try {
      this.#policy = parsePolicy(text, this.file, catalog());
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      this.#text = text; // the same bad text is reported once, not at every poll
      log("error", `${POLICY_KEPT}: ${err.message}`);
      return false;
    }
    this.#text = text;
    log("notice", `${POLICY_RELOADED} ${this.file} (${why})`);
    for (const l of this.#listeners) l();
    return true;
  }

  /** Polls the file and listens for SIGHUP; returns the function that stops both. */
  watch(): () => void {
    const onChange = () => this.reload("file changed");
    const onHup = () => this.reload("SIGHUP");
    watchFile(this.file, { interval: this.pollMs, persistent: false }, onChange);
    process.on("SIGHUP", onHup);
    return () => {
      unwatchFile(this.file, onChange);
      process.off("SIGHUP", onHup);
    };
  }
}

function read(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`TALOS_MCP_POLICY=${file} cannot be read: ${(err as Error).message}`);
  }
}
