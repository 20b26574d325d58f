/** @module The harness' result check can fail: a result off its tool's outputSchema is caught. */
import { describe, expect, test } from "bun:test";
import { checkResult } from "../harness.ts";

const result = (structuredContent: Record<string, unknown>) => ({
  content: [{ type: "text" as const, text: JSON.stringify(structuredContent) }],
  structuredContent,
});

describe("checkResult", () => {
  test("a result that matches the outputSchema passes", () => {
    checkResult("talos_version", result({ nodes: [{ node: "10.5.0.2", error: "down", code: "UNAVAILABLE" }] }));
  });

  test("a wrong type, a missing required field or a text that differs is caught", () => {
    expect(() => checkResult("talos_version", result({ nodes: "10.5.0.2" }))).toThrow(
      "does not match its outputSchema",
    );
    expect(() => checkResult("talos_version", result({}))).toThrow("must have required property 'nodes'");
    const r = result({ nodes: [] });
    r.content[0].text = "{}";
    expect(() => checkResult("talos_version", r)).toThrow("the text is not the structured JSON");
  });
});
