/**
 * @module talos_list_files, talos_read_file and TALOS_MCP_ALLOWED_PATHS through the compiled binary
 * against the simulated cluster (3 control planes + 1 worker): listings, bounded reads of a 200 MiB
 * file, secret masking, and paths refused before any RPC.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { callsSince, entry, failed, type Harness, ok, spawnHarness, text, withNodeDown } from "../harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await spawnHarness({ sim: { controlPlanes: 3, workers: 1 } });
});
afterAll(() => h?.close());

const withDown = <T>(i: number, fn: () => Promise<T>) => withNodeDown(h.sim, i, fn);
const since = () => callsSince(h.sim);

describe("talos_list_files", () => {
  test("entries with ls-style modes, link targets and mtimes, across nodes", async () => {
    const r = ok(await withDown(2, () => h.call("talos_list_files", { path: "/etc" })));
    const e = entry(r, "10.5.0.2").entries;
    expect(e[0]).toMatchObject({ name: "/etc", mode: "drwxr-xr-x" });
    expect(e.find((x: any) => x.name === "hosts")).toMatchObject({
      mode: "-rw-r--r--",
      modified: "2025-11-22T00:00:00Z",
    });
    expect(e.find((x: any) => x.name === "localtime")).toMatchObject({
      mode: "lrwxrwxrwx",
      link: "/usr/share/zoneinfo/UTC",
    });
    expect(e.slice(1).some((x: any) => x.name.includes("/"))).toBe(false); // not recursive
    expect(entry(r, "10.5.0.4").code).toBe("UNAVAILABLE");
  });

  test("recursion follows max_depth as talosctl does, and stops at the entry cap", async () => {
    const calls = since();
    const two = ok(await h.call("talos_list_files", { path: "/system", max_depth: 2, nodes: ["10.5.0.2"] }));
    const names = entry(two, "10.5.0.2").entries.map((x: any) => x.name);
    expect(names).toContain("secrets/etcd");
    expect(names).not.toContain("secrets/etcd/peer.key");
    expect(calls("List")[0].request).toMatchObject({ root: "/system", recurse: true, recursion_depth: 2 });
    const dev = ok(await h.call("talos_list_files", { path: "/dev", nodes: ["10.5.0.2"] }));
    expect(entry(dev, "10.5.0.2").entries.find((x: any) => x.name === "null").mode).toBe("crw-rw-rw-");
    const node = h.sim.cluster.nodes[3];
    node.extraFiles = new Map(
      Array.from({ length: 3000 }, (_, i) => [`/var/spool/f${i}`, { mode: 0o644, mtime: 1, content: "x" }]),
    );
    try {
      const calls = since();
      const big = ok(await h.call("talos_list_files", { path: "/var/spool", nodes: ["10.5.0.5"] }));
      const e = entry(big, "10.5.0.5");
      // The listing stops at 500 entries; the output cap may then cut some of those, and says how many.
      const cappedOut = big.truncated.dropped?.["nodes[].entries"] ?? 0;
      expect(e.entries.length + cappedOut).toBe(500);
      expect(e.more).toBe(true);
      expect(big.truncated.tool_limit).toContain("500 entries");
      expect(calls("List")[0].sent!).toBeLessThan(3001); // cancelled, not drained
    } finally {
      node.extraFiles = undefined;
    }
  });
});

describe("talos_read_file", () => {
  test("text content, with size; key material masked, certificates kept", async () => {
    const r = ok(await h.call("talos_read_file", { path: "/etc/hostname" }));
    expect(entry(r, "10.5.0.3")).toMatchObject({ content: "sim-cp-2\n", encoding: "utf-8", size: 9, bytes: 9 });
    const pem = ok(await h.call("talos_read_file", { path: "/var/lib/kubelet/pki/kubelet-client-current.pem" }));
    const c = entry(pem, "10.5.0.5").content;
    expect(c).toContain("-----BEGIN CERTIFICATE-----");
    expect(c).not.toContain("PRIVATE KEY");
    const key = ok(await h.call("talos_read_file", { path: "/system/secrets/etcd/peer.key", nodes: ["10.5.0.2"] }));
    expect(entry(key, "10.5.0.2").content).toMatch(/^<masked: \/system\/secrets\/etcd\/peer.key/);
    const cfg = ok(await h.call("talos_read_file", { path: "/system/state/config.yaml", nodes: ["10.5.0.2"] }));
    expect(JSON.stringify(cfg)).not.toMatch(/LS0tLS1CRUdJT|secretboxEncryptionSecret: [^<]/);
    const kc = ok(
      await h.call("talos_read_file", { path: "/etc/kubernetes/bootstrap-kubeconfig", nodes: ["10.5.0.2"] }),
    );
    expect(entry(kc, "10.5.0.2").content).toContain("token: <masked: token>");
  });

  test("a 200 MiB file: max_bytes returned, total size said, and the stream stopped early", async () => {
    const calls = since();
    const r = ok(
      await h.call("talos_read_file", { path: "/var/log/audit/kube/kube-apiserver.log", nodes: ["10.5.0.2"] }),
    );
    const e = entry(r, "10.5.0.2");
    expect(e).toMatchObject({ bytes: 32768, size: 200 << 20, truncated: true, encoding: "utf-8" });
    expect(r.truncated.ask).toContain("max_bytes");
    const read = calls("Read")[0];
    // 32 chunks were needed; flow control lets ~100 through before the cancel lands (1 MiB), never the 204800.
    expect(read.sent!).toBeLessThan(1_000);
  });

  test("binary content comes back as base64", async () => {
    const r = ok(await h.call("talos_read_file", { path: "/bin/containerd", max_bytes: 16, nodes: ["10.5.0.2"] }));
    const e = entry(r, "10.5.0.2");
    expect(e.encoding).toBe("base64");
    expect(Buffer.from(e.content, "base64").subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  });

  test("a reader certificate is refused before any RPC (Read is admin-only), naming the role", async () => {
    const reads = h.sim.callsTo("Read").length;
    const r = await h.call("talos_read_file", { path: "/etc/hostname", context: "sim-reader", nodes: ["10.5.0.2"] });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("needs a certificate with role os:admin");
    expect(text(r)).toContain('context "sim-reader" has os:reader');
    expect(h.sim.callsTo("Read").length).toBe(reads);
  });

  test("hostile paths are refused before any RPC", async () => {
    const calls = since();
    for (
      const path of [
        "etc/hostname",
        "/etc/../system/secrets/etcd/peer.key",
        "/etc//hostname",
        "/etc/%2e%2e/x",
        "/etc/\u0000",
      ]
    ) {
      for (const tool of ["talos_read_file", "talos_list_files"]) {
        const r = await h.call(tool, { path });
        expect(r.isError).toBe(true);
        expect(text(r)).toContain(`${tool} refused path`);
      }
    }
    expect(calls("Read")).toHaveLength(0);
    expect(calls("List")).toHaveLength(0);
  });
});

describe("TALOS_MCP_ALLOWED_PATHS", () => {
  test("paths outside the prefixes are refused without an RPC; inside them work", async () => {
    const g = await spawnHarness({ simInstance: h.sim, env: { TALOS_MCP_ALLOWED_PATHS: "/etc,/proc" } });
    try {
      const calls = since();
      for (const path of ["/system/secrets/etcd/peer.key", "/etcx/passwd", "/", "/var/lib/etcd"]) {
        const r = await g.call("talos_read_file", { path });
        expect(text(r)).toContain("outside the allowed paths");
        expect(text(await g.call("talos_list_files", { path, recurse: true }))).toContain("outside the allowed paths");
      }
      expect(calls("Read")).toHaveLength(0);
      expect(calls("List")).toHaveLength(0);
      const ok1 = ok(await g.call("talos_read_file", { path: "/etc/hostname", nodes: ["10.5.0.2"] }));
      expect(entry(ok1, "10.5.0.2").content).toBe("sim-cp-1\n");
      const listing = ok(await g.call("talos_list_files", { path: "/etc/", recurse: true, nodes: ["10.5.0.2"] }));
      expect(entry(listing, "10.5.0.2").entries.map((x: any) => x.name)).toContain("kubernetes/pki/ca.crt");
      expect(calls("List").at(-1)!.request).toMatchObject({ root: "/etc" });
    } finally {
      await g.close();
    }
  });

  test("a symlink inside a prefix that resolves outside it is refused before Read", async () => {
    const g = await spawnHarness({ simInstance: h.sim, env: { TALOS_MCP_ALLOWED_PATHS: "/etc,/var" } });
    try {
      const calls = since();
      const r = failed(await g.call("talos_read_file", { path: "/etc/localtime", nodes: ["10.5.0.2"] }));
      expect(entry(r, "10.5.0.2")).toMatchObject({ code: "DENIED" });
      expect(entry(r, "10.5.0.2").error).toContain("resolves to /usr/share/zoneinfo/UTC");
      const l = failed(await g.call("talos_list_files", { path: "/var/run", nodes: ["10.5.0.2"] }));
      expect(entry(l, "10.5.0.2").error).toContain("resolves to /run");
      expect(calls("Read")).toHaveLength(0);
      expect(calls("List")).toHaveLength(2); // the List that found out where each path goes
    } finally {
      await g.close();
    }
  });
});
