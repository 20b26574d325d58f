/**
 * @module Talos event ids are `xid`s: 12 bytes (4-byte Unix time, machine,
 * pid, counter) in 20 lowercase base32hex characters. The time is all an
 * event carries about when it happened, so we read it from the id.
 */

const ALPHABET = "0123456789abcdefghijklmnopqrstuv";

/** The Unix time (seconds) inside an xid, or undefined when `id` is not one. */
export function xidTime(id: string): number | undefined {
  if (!/^[0-9a-v]{20}$/.test(id)) return undefined;
  // The first 4 bytes are the first 32 bits: 6 chars carry 30 bits, the 7th the remaining 2.
  let bits = 0;
  for (let i = 0; i < 6; i++) bits = bits * 32 + ALPHABET.indexOf(id[i]);
  return bits * 4 + (ALPHABET.indexOf(id[6]) >> 3);
}
