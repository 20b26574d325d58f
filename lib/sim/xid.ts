/** @module Talos event ids are `xid`s: 12 bytes as 20 lowercase base32hex characters (rs/xid). */

const ALPHABET = "0123456789abcdefghijklmnopqrstuv";

/** Encodes 12 bytes (4-byte Unix time, machine, pid, counter) as an xid string. */
export function xidEncode(bytes: Uint8Array): string {
  let out = "";
  let acc = 0;
  let n = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    n += 8;
    while (n >= 5) {
      out += ALPHABET[(acc >> (n - 5)) & 31];
      n -= 5;
    }
    acc &= (1 << n) - 1;
  }
  if (n > 0) out += ALPHABET[(acc << (5 - n)) & 31];
  return out;
}
