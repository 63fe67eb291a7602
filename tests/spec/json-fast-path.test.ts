/** plainJsonShape: the check that lets strict JSON skip yaml; it must never pass a fault. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { plainJsonShape as plainJsonShapeOf } from "../../src/spec/json.ts";
import { MAX_NESTING_DEPTH } from "../../src/spec/yaml.ts";

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
/** plainJsonShape asks for what JSON.parse made of the text (it only ever sees text JSON.parse accepted). */
const plainJsonShape = (text: string) => plainJsonShapeOf(text, JSON.parse(text));

describe("plainJsonShape", () => {
  it("refuses repeated keys, however they are spelled, and only within one object", () => {
    expect(plainJsonShape('{"a": 1, "b": {"a": 2}}')).toBe(true);
    expect(plainJsonShape('{"a": 1, "a": 2}')).toBe(false);
    expect(plainJsonShape('{"a": 1, "\\u0061": 2}')).toBe(false);
    expect(plainJsonShape('[{"a": 1}, {"a": 2}]')).toBe(true);
    expect(plainJsonShape('{"x": ["a", "a"], "y": "\\"a\\"", "a": {"x": 1}}')).toBe(true);
    expect(plainJsonShape('{"k": {"a": 1}, "k": 2}')).toBe(false);
    expect(plainJsonShape('{"__proto__": 1, "__proto__": 2}')).toBe(false);
    expect(plainJsonShape('{"__proto__": {"a": 1}, "a": 2}')).toBe(true);
  });

  it("counts only colons between keys and values, not those inside strings", () => {
    expect(plainJsonShape('{"a:b": "c:d", "e": "\\":", "f\\":": [":", "::"]}')).toBe(true);
    expect(plainJsonShape('{"a:b": 1, "a:b": 2}')).toBe(false);
    expect(plainJsonShape('{"\\"": 1, "\\u0022": 2}')).toBe(false);
    expect(plainJsonShape('"just: a string"')).toBe(true);
  });

  it("refuses nesting past the limit, as the yaml path counts it", () => {
    expect(plainJsonShape(nested(MAX_NESTING_DEPTH))).toBe(true);
    expect(plainJsonShape(nested(MAX_NESTING_DEPTH + 1))).toBe(false);
  });

  it("agrees with a plain-object count of keys on random JSON", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "\\u0061", "a:", '\\":'), fc.jsonValue({ maxDepth: 3 })), { maxLength: 5 }), (entries) => {
        const text = `{${entries.map(([k, v]) => `"${k}": ${JSON.stringify(v)}`).join(", ")}}`;
        const keys = entries.map(([k]) => JSON.parse(`"${k}"`) as string);
        const unique = new Set(keys).size === keys.length;
        // Values of fc.jsonValue are objects from JSON.stringify, so they never repeat a key.
        expect(plainJsonShape(text)).toBe(unique);
      }),
    );
  });
});
