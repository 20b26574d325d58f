/** @module Version tags as the simulated nodes need them (its own parser, not the product's). */

export interface SimVersion {
  major: number;
  minor: number;
  patch: number;
}

/** `v1.13.9`, `1.14.0-beta.1` or an image ref ending in such a tag; undefined otherwise. */
export function simVersion(ref: string): SimVersion | undefined {
  const tag = ref.includes(":") && !ref.includes("@") ? ref.slice(ref.lastIndexOf(":") + 1) : ref;
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?$/.exec(tag.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}
