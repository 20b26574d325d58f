/** @module Go-style duration strings (`30s`, `15m`, `1h30m`), as talosctl and the Go talos-mcp take them. */

/** Milliseconds in `s`, or undefined when it is not a duration of hours, minutes and seconds. */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(t);
  if (!m || t === "") return undefined;
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
}
