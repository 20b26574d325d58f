/**
 * @module lib/talos/config_schema.json is what scripts/gen_config_schema.ts derives from Talos'
 * published schema (../shared/reference/talos-config/config.schema.json): regenerating it gives
 * the committed file. Skips with a message when the reference is absent; under
 * TALOS_MCP_REQUIRE_SHARED=1 (CI) its absence fails.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { COMPACT_SCHEMA, renderCompactSchema, UPSTREAM_SCHEMA } from "../../scripts/gen_config_schema.ts";
import { CONFIG_SCHEMA } from "../../lib/talos/config_schema_check.ts";

const HAVE_UPSTREAM = existsSync(UPSTREAM_SCHEMA);
if (!HAVE_UPSTREAM) {
  const msg = `config_schema_test: Talos' config schema not found at ${UPSTREAM_SCHEMA}`;
  if (process.env.TALOS_MCP_REQUIRE_SHARED === "1") throw new Error(msg);
  console.log(`${msg}; skipping the regeneration check (set TALOS_CONFIG_SCHEMA)`);
}

describe("compact config schema", () => {
  test.skipIf(!HAVE_UPSTREAM)("regenerating it gives the committed file", () => {
    const fresh = renderCompactSchema();
    if (fresh !== readFileSync(COMPACT_SCHEMA, "utf8")) {
      throw new Error(
        "lib/talos/config_schema.json is stale: regenerate it with `npx bun scripts/gen_config_schema.ts`",
      );
    }
  });

  test.skipIf(!HAVE_UPSTREAM)("every document kind of the upstream schema is known, and nothing else", () => {
    const upstream = JSON.parse(readFileSync(UPSTREAM_SCHEMA, "utf8"));
    const kinds = (upstream.oneOf as Array<{ $ref: string }>)
      .map((r) => upstream.$defs[r.$ref.replace("#/$defs/", "")].properties.kind?.enum?.[0])
      .filter(Boolean)
      .sort();
    expect(Object.keys(CONFIG_SCHEMA.kinds).sort()).toEqual(kinds);
  });

  test("it keeps no prose and every reference resolves", () => {
    const text = readFileSync(COMPACT_SCHEMA, "utf8");
    for (const word of ["description", "markdownDescription", "title", "examples"]) {
      expect(text).not.toContain(`"${word}"`);
    }
    const refs = [...text.matchAll(/"\$ref": "([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(100);
    for (const ref of refs) expect(CONFIG_SCHEMA.defs).toHaveProperty([ref]);
    expect(CONFIG_SCHEMA.kinds.HostnameConfig).toBe("network.HostnameConfigV1Alpha1");
    expect(CONFIG_SCHEMA.v1alpha1).toBe("v1alpha1.Config");
  });
});
