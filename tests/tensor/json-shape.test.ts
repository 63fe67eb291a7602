/** jsonShape: repeated keys and nesting depth of text JSON.parse accepted, checked against the per-character scanners it stands in front of. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonNestingDepth, jsonShape } from "../../src/tensor/json-limits.ts";
import { findDuplicateKey } from "../../src/tensor/safetensors-header.ts";

const shape = (text: string) => jsonShape(text, JSON.parse(text));

describe("jsonShape", () => {
  it("measures depth as jsonNestingDepth does", () => {
    for (const text of ["1", '"[{"', "[]", "{}", '{"a":[1,{"b":"[[[["}]}', "[[[[]]]]", '[{"x":[[]]},[]]']) {
      expect(shape(text).depth).toBe(jsonNestingDepth(text, Infinity));
    }
  });

  it("finds a repeated key wherever findDuplicateKey does, on random headers", () => {
    const key = fc.constantFrom("w", "dtype", "shape", "a:b", '\\"', "\\u0077", "__proto__");
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), fc.array(fc.tuple(key, fc.integer()), { maxLength: 4 }).map((es) => `{${es.map(([k, v]) => `"${k}":${v}`).join(",")}}`));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 5 }), (entries) => {
        const text = `{${entries.map(([k, v]) => `"${k}": ${v}`).join(", ")}}`;
        expect(shape(text).distinctKeys).toBe(findDuplicateKey(text) === undefined);
      }),
      { numRuns: 500 },
    );
  });
});
