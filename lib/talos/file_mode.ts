/**
 * @module The Go `os.FileMode` in Talos' FileInfo (what MachineService.List
 * streams; not POSIX st_mode: dir is bit 31, symlink bit 27), rendered the way
 * `ls -l` shows a mode: type letter, then rwx with s/S/t/T. Used by talos_list_files.
 */

/** Go FileMode type and special bits (above the nine permission bits). */
const DIR = 1 << 31 >>> 0;
const SYMLINK = 1 << 27;
const DEVICE = 1 << 26;
const NAMED_PIPE = 1 << 25;
const SOCKET = 1 << 24;
const SETUID = 1 << 23;
const SETGID = 1 << 22;
const CHAR_DEVICE = 1 << 21;
const STICKY = 1 << 20;
const IRREGULAR = 1 << 19;

/** `ls -l` style mode string, e.g. `drwxr-xr-x`, `lrwxrwxrwx`, `crw-rw-rw-`, `-rwsr-xr-x`. */
export function renderMode(raw: number): string {
  const m = raw >>> 0;
  const type = m & DIR
    ? "d"
    : m & SYMLINK
    ? "l"
    : m & DEVICE
    ? (m & CHAR_DEVICE ? "c" : "b")
    : m & CHAR_DEVICE
    ? "c"
    : m & NAMED_PIPE
    ? "p"
    : m & SOCKET
    ? "s"
    : m & IRREGULAR
    ? "?"
    : "-";
  const rwx = (shift: number, special: boolean, letter: string) => {
    const bits = (m >> shift) & 7;
    const x = bits & 1;
    return (bits & 4 ? "r" : "-") + (bits & 2 ? "w" : "-") +
      (special ? (x ? letter : letter.toUpperCase()) : x ? "x" : "-");
  };
  return type + rwx(6, (m & SETUID) !== 0, "s") + rwx(3, (m & SETGID) !== 0, "s") + rwx(0, (m & STICKY) !== 0, "t");
}
