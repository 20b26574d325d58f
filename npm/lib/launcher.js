/**
 * @module The launcher's command line: `talos-mcp install` prefetches the
 * binary; anything else runs it with the same arguments and stdio. It writes
 * nothing to stdout itself: stdout is the server's JSON-RPC stream.
 */
import { spawn } from "node:child_process";
import { ensureBinary } from "./install.js";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"];

function say(line) {
  process.stderr.write(`talos-mcp: ${line}\n`);
}

/** Runs the launcher for `argv` (process.argv.slice(2)). */
export async function main(argv) {
  const quiet = process.env.TALOS_MCP_LAUNCHER_QUIET === "1";
  let binary;
  try {
    binary = await ensureBinary({ log: quiet ? () => {} : say });
  } catch (err) {
    say(err.message);
    process.exitCode = 1;
    return;
  }
  if (argv[0] === "install") {
    say(`ready: ${binary}`);
    return;
  }
  const child = spawn(binary, argv, { stdio: "inherit", windowsHide: true });
  const forward = (signal) => child.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  child.on("error", (err) => {
    say(`could not start ${binary}: ${err.message}`);
    process.exitCode = 1;
  });
  child.on("exit", (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
}
