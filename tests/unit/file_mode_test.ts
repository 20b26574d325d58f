/** @module Go os.FileMode (FileInfo.mode) rendered like ls -l. */
import { expect, test } from "bun:test";
import { renderMode } from "../../lib/talos/file_mode.ts";

const DIR = 2 ** 31;
test.each([
  [0o644, "-rw-r--r--"],
  [DIR + 0o755, "drwxr-xr-x"],
  [(1 << 27) + 0o777, "lrwxrwxrwx"],
  [(1 << 26) + (1 << 21) + 0o666, "crw-rw-rw-"],
  [(1 << 26) + 0o660, "brw-rw----"],
  [(1 << 25) + 0o600, "prw-------"],
  [(1 << 24) + 0o660, "srw-rw----"],
  [(1 << 23) + 0o755, "-rwsr-xr-x"],
  [(1 << 23) + 0o644, "-rwSr--r--"],
  [(1 << 22) + 0o2755 - 0o2000, "-rwxr-sr-x"],
  [DIR + (1 << 20) + 0o777, "drwxrwxrwt"],
  [DIR + (1 << 20) + 0o776, "drwxrwxrwT"],
  [(1 << 19) + 0o400, "?r--------"],
])("%d → %s", (mode, want) => {
  expect(renderMode(mode)).toBe(want);
});
