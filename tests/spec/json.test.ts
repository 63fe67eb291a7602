import { describe, expect, it } from "vitest";
import { z } from "zod/mini";
import { jsonLineColOf, lineColAt, loadJsonFile, parseJsonText } from "../../src/spec/json.ts";
import { Manifest } from "../fixtures/spec/schemas.ts";
import { brief, dir, fixture, specError, thrown } from "../helpers/spec.ts";

describe("loadJsonFile", () => {
  it("returns the validated, typed value of a valid file", () => {
    const m = loadJsonFile(fixture("valid.json"), Manifest, "manifest");
    expect(m.tensors.map((t) => t.name)).toEqual(["layers.0.out", "logits"]);
    expect(m.tensors[1]?.shape).toEqual([1, 16, 32]);
    expect(m.meta).toEqual({ transformers: "5.17" });
  });

  it("file_not_found and file_unreadable name the path", () => {
    const missing = fixture("no-such-manifest.json");
    const e = thrown(() => loadJsonFile(missing, Manifest, "manifest"));
    expect([e.code, e.file, e.message]).toEqual(["file_not_found", missing, `${missing}: manifest not found`]);
    const dirErr = thrown(() => loadJsonFile(dir, Manifest, "manifest"));
    expect([dirErr.code, dirErr.file]).toEqual(["file_unreadable", dir]);
  });

  it("invalid_json carries the line and column of the fault", () => {
    const path = fixture("syntax-error.json");
    const e = specError(() => loadJsonFile(path, Manifest, "manifest"));
    expect(e.code).toBe("invalid_json");
    expect([e.file, e.line, e.column]).toEqual([path, 4, 46]);
    expect(e.message).toBe(`${path}:4:46: manifest is not valid JSON: unexpected '"', expected ',' or '}'`);
    expect(e.cause).toBeInstanceOf(SyntaxError);
  });

  it("locates other syntax faults", () => {
    const at = (text: string): [number | undefined, number | undefined, string] => {
      const e = specError(() => parseJsonText(text, "m.json", z.unknown(), "manifest"));
      expect(e.code).toBe("invalid_json");
      return [e.line, e.column, e.issues[0]?.message ?? ""];
    };
    expect(at('{\n  "a": [1, 2,]\n}')).toEqual([2, 14, "unexpected ']', expected a value"]);
    expect(at('{\n  "a": 1\n')).toEqual([3, 1, "unexpected end of input, expected ',' or '}'"]);
    expect(at('{"a": "x\ty"}')).toEqual([1, 9, "control character U+0009 in string (escape it)"]);
    expect(at("{'a': 1}")).toEqual([1, 2, "unexpected ''', expected a string key"]);
    expect(at('{"a": 1} x')).toEqual([1, 10, "unexpected 'x', expected end of input"]);
    expect(at('{"a": 01}')).toEqual([1, 8, "unexpected '1', expected ',' or '}'"]);
    expect(at("")).toEqual([1, 1, "unexpected end of input, expected a value"]);
  });

  it("a duplicate key is invalid_json at the second occurrence", () => {
    const path = fixture("duplicate-key.json");
    const e = specError(() => loadJsonFile(path, Manifest, "manifest"));
    expect(e.code).toBe("invalid_json");
    expect(e.issues.map(brief)).toEqual([["syntax", 4, 63, "tensors[0].dtype"]]);
    expect(e.message).toBe(`${path}:4:63: tensors[0].dtype: manifest is not valid JSON: duplicate key "dtype"`);
  });

  it("schema_violation names the JSON path and position of every issue", () => {
    const path = fixture("schema-errors.json");
    const e = specError(() => loadJsonFile(path, Manifest, "manifest"));
    expect(e.code).toBe("schema_violation");
    expect(e.issues.map(brief)).toEqual([
      ["unknown_key", 4, 53, "tensors[0].dtpye"],
      ["out_of_range", 5, 38, "tensors[1].shape[1]"],
      ["missing_key", 6, 5, "tensors[2].name"],
      ["invalid_value", 6, 30, "tensors[2].dtype"],
    ]);
    expect(e.issues[0]?.suggestion).toBe("dtype");
    expect(e.message.split("\n")).toEqual([
      `${path}:4:53: tensors[0].dtpye: unknown key "dtpye"; did you mean "dtype"?`,
      `  ${path}:5:38: tensors[1].shape[1]: must be >= 1 (got 0)`,
      `  ${path}:6:5: tensors[2].name: missing required key "name"`,
      `  ${path}:6:30: tensors[2].dtype: must be one of "f32", "f16", "bf16" (got string "f64")`,
    ]);
  });

  it("uses JSON vocabulary and points objects at their key", () => {
    const text = '{\n  "format": "numgate-manifest",\n  "tensors": {"a": 1}\n}\n';
    const e = specError(() => parseJsonText(text, "m.json", Manifest, "manifest"));
    expect(e.message).toBe("m.json:3:3: tensors: expected an array, got an object");
  });

  it("strips a byte-order mark", () => {
    const m = parseJsonText('\uFEFF{"format": "numgate-manifest", "tensors": []}', "m.json", Manifest, "manifest");
    expect(m.tensors).toEqual([]);
  });
});

describe("JSON positions", () => {
  it("jsonLineColOf points at scalars, and at the key of objects and arrays", () => {
    const text = '{\n  "a": {\n    "b": [10, 20]\n  },\n  "c\\"d": true\n}';
    expect(jsonLineColOf(text, ["a", "b", 1])).toEqual({ line: 3, column: 15 });
    expect(jsonLineColOf(text, ["a", "b"])).toEqual({ line: 3, column: 5 });
    expect(jsonLineColOf(text, ["a"])).toEqual({ line: 2, column: 3 });
    expect(jsonLineColOf(text, ['c"d'])).toEqual({ line: 5, column: 11 });
    expect(jsonLineColOf(text, ["x"])).toBeUndefined();
    expect(jsonLineColOf("{", ["a"])).toBeUndefined();
  });
  it("lineColAt counts lines and UTF-16 columns from 1", () => {
    expect(lineColAt("ab\ncd", 0)).toEqual({ line: 1, column: 1 });
    expect(lineColAt("ab\ncd", 4)).toEqual({ line: 2, column: 2 });
    expect(lineColAt("ab\r\ncd", 4)).toEqual({ line: 2, column: 1 });
  });
});
