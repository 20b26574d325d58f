/**
 * @module The simulated nodes' filesystem: realistic files (including the
 * secret-bearing ones Talos really has) plus generated ones of any size
 * (content produced chunk by chunk, so a 200 MiB file costs no memory in the
 * simulator either), and the directory walk MachineService.List does.
 */
import { createHash } from "node:crypto";
import type { SimNode } from "./model.ts";
import { procFiles } from "./procfs.ts";

/** One MachineService.List message as Talos sends it (int64/uint64 fields as strings, as decoded). */
export interface FileInfo {
  name: string;
  relative_name: string;
  size: string;
  mode: number;
  modified: string;
  is_dir: boolean;
  error: string;
  link: string;
  uid: number;
  gid: number;
}

/** Go `os.FileMode` type and special bits, above the nine permission bits (what Talos puts in `mode`). */
const DIR = 1 << 31 >>> 0;
const SYMLINK = 1 << 27;
const DEVICE = 1 << 26;
const CHAR_DEVICE = 1 << 21;
const STICKY = 1 << 20;

export interface SimFile {
  /** Go os.FileMode bits (dir 1<<31, symlink 1<<27, not POSIX st_mode): permissions, plus type bits for dirs/links. */
  mode: number;
  /** Modification time, Unix seconds. */
  mtime: number;
  /** Regular file content, or a generator of `size` bytes. */
  content?: string | { size: number; chunk: (offset: number, length: number) => Uint8Array };
  /** Symlink target. */
  link?: string;
}

const T0 = 1_763_769_600; // 2025-11-22, a fixed "install time" so listings are stable

/** Size of the generated kube-apiserver audit log on control-plane nodes. */
export const BIG_FILE_SIZE = 200 << 20;
export const BIG_FILE = "/var/log/audit/kube/kube-apiserver.log";

/** A text file of fixed-length lines, generated for any offset. */
function generatedLines(size: number, line: (i: number) => string): SimFile["content"] {
  const len = Buffer.byteLength(line(0));
  return {
    size,
    chunk: (offset, length) => {
      const out = Buffer.alloc(length);
      let pos = 0;
      for (let i = Math.floor(offset / len); pos < length; i++) {
        const text = Buffer.from(line(i));
        const from = pos === 0 ? offset - i * len : 0;
        pos += text.copy(out, pos, from, Math.min(len, from + length - pos));
      }
      return out;
    },
  };
}

/** Deterministic pseudo-random bytes: an ELF header then noise, like a binary. */
function binary(size: number, seed: string): SimFile["content"] {
  return {
    size,
    chunk: (offset, length) => {
      const out = Buffer.alloc(length);
      for (let pos = 0; pos < length;) {
        const block = Math.floor((offset + pos) / 32);
        const bytes = createHash("sha256").update(`${seed}:${block}`).digest();
        if (block === 0) Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(bytes);
        const from = (offset + pos) % 32;
        pos += bytes.copy(out, pos, from, Math.min(32, from + length - pos));
      }
      return out;
    },
  };
}

const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
const fakeB64 = (seed: string, n = 3) =>
  Array.from({ length: n }, (_, i) => createHash("sha512").update(`${seed}${i}`).digest("base64")).join("\n");
const cert = (seed: string) => pem("CERTIFICATE", fakeB64(`crt${seed}`));
const key = (seed: string, label = "EC PRIVATE KEY") => pem(label, fakeB64(`key${seed}`, 2));
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** The files of `node`, by absolute path; directories implied by paths are listed too. */
export function nodeFiles(node: SimNode): Map<string, SimFile> {
  const f = (content: SimFile["content"], mode = 0o644): SimFile => ({ mode, mtime: T0, content });
  const files = new Map<string, SimFile>([
    ["/etc/hostname", f(`${node.hostname}\n`)],
    ["/etc/hosts", f(`127.0.0.1 localhost\n${node.ip} ${node.hostname}\n`)],
    [
      "/etc/os-release",
      f(`NAME="Talos"\nID=talos\nVERSION_ID=${node.version}\nPRETTY_NAME="Talos (${node.version})"\n`),
    ],
    ["/etc/resolv.conf", f("nameserver 10.5.0.1\n")],
    ["/etc/localtime", { mode: SYMLINK | 0o777, mtime: T0, link: "/usr/share/zoneinfo/UTC" }],
    ["/usr/share/zoneinfo/UTC", f("TZif2\n")],
    ["/var/run", { mode: SYMLINK | 0o777, mtime: T0, link: "/run" }],
    ["/run/containerd/containerd.sock", { mode: 0x01000000 | 0o660, mtime: T0 }], // Go ModeSocket
    ["/dev/null", { mode: DEVICE | CHAR_DEVICE | 0o666, mtime: T0 }],
    ["/tmp", { mode: DIR | STICKY | 0o777, mtime: T0 }], // sticky, like /tmp everywhere
    ["/proc/sys/kernel/random/boot_id", f(`${node.bootId}\n`, 0o444)],
    ["/bin/containerd", f(binary(1 << 20, "containerd"), 0o755)],
    // Secrets, where Talos keeps them: masking must hide every key below.
    ["/etc/kubernetes/kubeconfig-kubelet", f(kubeconfig(node, `client-key-data: ${b64(key(node.ip))}`), 0o600)],
    ["/etc/kubernetes/bootstrap-kubeconfig", f(kubeconfig(node, "token: abcdef.0123456789abcdef"), 0o600)],
    ["/etc/kubernetes/pki/ca.crt", f(cert("k8s-ca"))],
    ["/var/lib/kubelet/pki/kubelet.crt", f(cert(`kubelet${node.ip}`))],
    ["/var/lib/kubelet/pki/kubelet.key", f(key(`kubelet${node.ip}`, "RSA PRIVATE KEY"), 0o600)],
    [
      "/var/lib/kubelet/pki/kubelet-client-current.pem",
      f(cert(`client${node.ip}`) + key(`client${node.ip}`), 0o600),
    ],
    ["/system/state/config.yaml", f(node.machineConfig, 0o600)],
  ]);
  if (node.role === "controlplane") {
    files.set("/system/secrets/etcd/ca.crt", f(cert("etcd-ca")));
    files.set("/system/secrets/etcd/peer.crt", f(cert(`peer${node.ip}`)));
    files.set("/system/secrets/etcd/peer.key", f(key(`peer${node.ip}`), 0o600));
    files.set(
      "/system/secrets/kubernetes/kube-apiserver/service-account.key",
      f(key("sa", "RSA PRIVATE KEY"), 0o600),
    );
    files.set(BIG_FILE, f(generatedLines(BIG_FILE_SIZE, auditLine), 0o600));
  }
  for (const [path, text] of procFiles(node)) files.set(path, f(text, 0o444));
  for (const [path, file] of node.extraFiles ?? []) files.set(path, file);
  return files;
}

function kubeconfig(node: SimNode, credential: string): string {
  return `apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: https://10.5.0.2:6443\n` +
    `contexts:\n- name: kubelet@sim\n  context: {cluster: sim, user: kubelet}\ncurrent-context: kubelet@sim\n` +
    `users:\n- name: kubelet\n  user:\n    ${credential}\n# node ${node.hostname}\n`;
}

function auditLine(i: number): string {
  const ts = new Date(Date.UTC(2026, 10, 22) + i * 10).toISOString();
  return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"${
    String(i).padStart(12, "0")
  }","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/kube-system/pods","verb":"list","ts":"${ts}"}\n`;
}

/** The node's tree: every file plus the directories its paths imply. */
function tree(node: SimNode): Map<string, SimFile> {
  const files = nodeFiles(node);
  const all = new Map<string, SimFile>([["/", { mode: DIR | 0o755, mtime: T0 }]]);
  for (const path of files.keys()) {
    const parts = path.split("/");
    for (let i = 2; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!all.has(dir)) all.set(dir, { mode: DIR | 0o755, mtime: T0 });
    }
  }
  for (const [path, file] of files) all.set(path, file);
  return all;
}

function sizeOf(file: SimFile): number {
  if (file.link) return file.link.length;
  if (file.mode & DIR) return 4096;
  return typeof file.content === "string" ? Buffer.byteLength(file.content) : file.content?.size ?? 0;
}

/**
 * MachineService.List's walk: the root first as ".", then entries in
 * lexical order down to `depth` levels (0 or less: unlimited); a symlinked
 * root is resolved, symlinks below it are not followed.
 */
export function* walk(node: SimNode, rawRoot: string, depth: number): Generator<FileInfo> {
  const all = tree(node);
  let root = ("/" + rawRoot.replace(/^\/+/, "")).replace(/(.)\/+$/, "$1");
  const start = all.get(root);
  if (!start) throw new Error(`lstat ${root}: no such file or directory`);
  if (start.link) root = start.link;
  const entry = (path: string, file: SimFile): FileInfo => ({
    name: path,
    relative_name: path === root ? "." : path.slice(root === "/" ? 1 : root.length + 1),
    size: String(sizeOf(file)),
    mode: file.mode >>> 0,
    modified: String(file.mtime),
    is_dir: (file.mode & DIR) !== 0,
    link: file.link ?? "",
    error: "",
    uid: 0,
    gid: 0,
  });
  const rootFile = all.get(root);
  if (!rootFile) throw new Error(`lstat ${root}: no such file or directory`);
  yield entry(root, rootFile);
  if (!(rootFile.mode & DIR)) return;
  const prefix = root === "/" ? "/" : root + "/";
  const below = [...all.keys()].filter((p) => p.startsWith(prefix) && p !== root).sort();
  for (const path of below) {
    const level = path.slice(prefix.length).split("/").length;
    if (depth > 0 && level > depth) continue;
    yield entry(path, all.get(path)!);
  }
}
