/**
 * @module Static checks of the Dockerfile (no container engine here to build it):
 * one digest-pinned distroless or scratch base, nothing run inside the image,
 * only the released linux binaries copied in (read-only), a non-root user, the
 * MCP Registry's ownership label, and a build context that admits nothing else.
 */
import { PLATFORMS } from "./platforms.ts";

export interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
export function instructions(text: string): Instruction[] {
  return text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

/** Problems with the Dockerfile and .dockerignore; [] when both are as the release needs. */
export function checkDockerfile(dockerfile: string, dockerignore: string, serverName: string): string[] {
  const ins = instructions(dockerfile);
  const problems: string[] = [];
  const from = ins.filter((i) => i.op === "FROM");
  if (from.length !== 1) problems.push(`${from.length} FROM lines: the image is one stage, the binary copied in`);
  for (const f of from) {
    if (!/^(gcr\.io\/distroless\/[\w.-]+(:[\w.-]+)?@sha256:[0-9a-f]{64}|scratch)$/.test(f.args)) {
      problems.push(`FROM ${f.args}: the base must be distroless pinned by digest (or scratch)`);
    }
  }
  for (const op of ["RUN", "ADD"]) {
    if (ins.some((i) => i.op === op)) problems.push(`${op}: nothing may run or be fetched while building the image`);
  }
  const copies = ins.filter((i) => i.op === "COPY");
  const linux = PLATFORMS.filter((p) => p.os === "linux");
  if (copies.length !== 1) problems.push(`${copies.length} COPY lines: copy the binary only`);
  for (const c of copies) {
    const m = /^--chmod=0?555 dist\/talos-mcp-linux-\$\{TARGETARCH\} \/talos-mcp$/.exec(c.args);
    if (!m) problems.push(`COPY ${c.args}: copy dist/talos-mcp-linux-\${TARGETARCH} to /talos-mcp, mode 0555`);
  }
  const user = ins.filter((i) => i.op === "USER").at(-1)?.args ?? "";
  if (!/^[1-9]\d*(:[1-9]\d*)?$/.test(user)) problems.push(`USER ${user || "(none)"}: run as a numeric non-root user`);
  const entry = ins.find((i) => i.op === "ENTRYPOINT")?.args;
  if (entry !== '["/talos-mcp"]') problems.push(`ENTRYPOINT ${entry}: exec form of /talos-mcp`);
  if (!dockerfile.includes(`io.modelcontextprotocol.server.name="${serverName}"`)) {
    problems.push(`no LABEL io.modelcontextprotocol.server.name="${serverName}" (the registry checks it)`);
  }
  const ignore = dockerignore.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const want = ["*", ...linux.map((p) => `!dist/${p.asset}`)];
  if (JSON.stringify(ignore) !== JSON.stringify(want)) {
    problems.push(`.dockerignore must admit only the linux binaries: ${want.join(" ")}`);
  }
  return problems;
}
