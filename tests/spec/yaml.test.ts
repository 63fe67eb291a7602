import { describe, expect, it } from "vitest";
import { z } from "zod/mini";
import { closest, editDistance, formatFieldPath, lineColOf, loadYamlFile, parseYamlText } from "../../src/spec/yaml.ts";
import { GateSpec } from "../fixtures/spec/schemas.ts";
import { brief, dir, fixture, specError, thrown } from "../helpers/spec.ts";

describe("loadYamlFile: reading", () => {
  it("returns the validated, typed value of a valid file", () => {
    const spec = loadYamlFile(fixture("valid.yaml"), GateSpec, "gate spec");
    expect(spec.version).toBe(1);
    expect(spec.model).toBe("qwen3-vl-tiny");
    expect(Object.keys(spec.candidates)).toEqual(["fp16", "int8"]);
    expect(spec.candidates["int8"]?.thresholds.layers.min_cos).toBe(0.98);
    expect(spec.candidates["int8"]?.thresholds.logits?.min_cos).toBe(0.95);
    expect(spec.candidates["int8"]?.positions).toEqual([0, 5, 17]);
    expect(spec.rungs).toEqual(["layers", "logits"]);
  });

  it("file_not_found names the path and what was looked for", () => {
    const path = fixture("no-such-spec.yaml");
    const e = thrown(() => loadYamlFile(path, GateSpec, "gate spec"));
    expect(e.code).toBe("file_not_found");
    expect(e.file).toBe(path);
    expect(e.message).toBe(`${path}: gate spec not found`);
  });

  it("file_unreadable for a path that cannot be read as a file", () => {
    const e = thrown(() => loadYamlFile(dir, GateSpec, "gate spec"));
    expect(e.code).toBe("file_unreadable");
    expect(e.file).toBe(dir);
    expect(e.message).toBe(`${dir}: cannot read gate spec (EISDIR)`);
  });
});

describe("loadYamlFile: invalid YAML", () => {
  it("a syntax error carries the parser's line, column and message", () => {
    const path = fixture("syntax-error.yaml");
    const e = specError(() => loadYamlFile(path, GateSpec, "gate spec"));
    expect(e.code).toBe("invalid_yaml");
    expect([e.file, e.line, e.column]).toEqual([path, 6, 1]);
    expect(e.message.split("\n")[0]).toBe(
      `${path}:6:1: gate spec is not valid YAML: All mapping items must start at the same column`,
    );
    // The parser's context snippet follows the headline.
    expect(e.message).toContain("   dtype: int8");
    expect(e.issues.map(brief)).toEqual([["syntax", 6, 1, undefined]]);
    expect(e.issues[0]?.sourceCode).toBe("BAD_INDENT");
  });

  it("a duplicate key is a syntax error at the second occurrence", () => {
    const path = fixture("duplicate-key.yaml");
    const e = specError(() => loadYamlFile(path, GateSpec, "gate spec"));
    expect(e.code).toBe("invalid_yaml");
    expect([e.line, e.column]).toEqual([10, 5]);
    expect(e.message.split("\n")[0]).toBe(`${path}:10:5: gate spec is not valid YAML: Map keys must be unique`);
    expect(e.issues[0]?.sourceCode).toBe("DUPLICATE_KEY");
  });

  it("several documents in one file are refused", () => {
    const e = specError(() => parseYamlText("a: 1\n---\nb: 2\n", "s.yaml", z.unknown(), "gate spec"));
    expect(e.code).toBe("invalid_yaml");
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/^s\.yaml:2:1: gate spec is not valid YAML: Source contains multiple documents/);
  });
});

describe("loadYamlFile: schema violations point at the offending node", () => {
  it("an unknown key points at the key and suggests the near-miss known key", () => {
    const path = fixture("typo-key.yaml");
    const e = specError(() => loadYamlFile(path, GateSpec, "gate spec"));
    expect(e.code).toBe("schema_violation");
    expect([e.line, e.column, e.field]).toEqual([7, 5, "candidates.int8.treshold"]);
    expect(e.message).toBe(`${path}:7:5: candidates.int8.treshold: unknown key "treshold"; did you mean "thresholds"?`);
    // "missing required key thresholds" is folded into the suggestion: one issue, not two.
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0]).toMatchObject({
      kind: "unknown_key",
      file: path,
      path: ["candidates", "int8", "treshold"],
      suggestion: "thresholds",
      sourceCode: "unrecognized_keys",
    });
  });

  it("an unknown key with no near miss lists the known keys", () => {
    const text = "version: 1\nmodel: m\ncandidates: {}\nrungs: [layers]\ncolour: red\n";
    const e = specError(() => parseYamlText(text, "s.yaml", GateSpec, "gate spec"));
    expect(e.message).toBe('s.yaml:5:1: colour: unknown key "colour" (known keys: version, model, candidates, rungs)');
    expect(e.issues[0]?.suggestion).toBeUndefined();
  });

  it("a wrong type deep in a nested map points at the value", () => {
    const path = fixture("wrong-type.yaml");
    const e = specError(() => loadYamlFile(path, GateSpec, "gate spec"));
    expect([e.code, e.line, e.column, e.field]).toEqual(["schema_violation", 9, 20, "candidates.int8.thresholds.layers.min_cos"]);
    expect(e.message).toBe(`${path}:9:20: candidates.int8.thresholds.layers.min_cos: expected a number, got string "high"`);
    expect(e.issues.map(brief)).toEqual([["invalid_type", 9, 20, "candidates.int8.thresholds.layers.min_cos"]]);
  });

  it("a missing required key points at the map that should hold it", () => {
    const path = fixture("missing-required.yaml");
    const e = specError(() => loadYamlFile(path, GateSpec, "gate spec"));
    // Line 8 is `      layers:`, the key of the block map missing min_cos.
    expect([e.line, e.column, e.field]).toEqual([8, 7, "candidates.int8.thresholds.layers.min_cos"]);
    expect(e.message).toBe(`${path}:8:7: candidates.int8.thresholds.layers.min_cos: missing required key "min_cos"`);
    expect(e.issues.map((i) => i.kind)).toEqual(["missing_key"]);
  });

  it("reports every issue: the first as headline, the others on following lines", () => {
    const path = fixture("two-errors.yaml");
    const e = specError(() => loadYamlFile(path, GateSpec, "gate spec"));
    expect(e.code).toBe("schema_violation");
    expect(e.issues.map(brief)).toEqual([
      ["invalid_value", 6, 12, "candidates.int8.dtype"],
      ["out_of_range", 9, 18, "candidates.int8.thresholds.layers.min_cos"],
    ]);
    expect(e.issues[0]?.suggestion).toBe("int8");
    expect(e.message.split("\n")).toEqual([
      `${path}:6:12: candidates.int8.dtype: must be one of "fp32", "fp16", "int8" (got string "int4"); did you mean "int8"?`,
      `  ${path}:9:18: candidates.int8.thresholds.layers.min_cos: must be <= 1 (got 1.5)`,
    ]);
    // NumgateError's own fields are those of the first issue.
    expect([e.file, e.field, e.line, e.column]).toEqual([path, "candidates.int8.dtype", 6, 12]);
    expect(e.toJSON()).toMatchObject({ code: "schema_violation", file: path, field: "candidates.int8.dtype" });
  });

  it("issues come in file order whatever order zod reports them in", () => {
    const text = ["colour: red", "version: 2", "model: ''", "candidates: {}", "rungs: []", ""].join("\n");
    const e = specError(() => parseYamlText(text, "s.yaml", GateSpec, "gate spec"));
    expect(e.issues.map(brief)).toEqual([
      ["unknown_key", 1, 1, "colour"],
      ["invalid_value", 2, 10, "version"],
      ["out_of_range", 3, 8, "model"],
      ["out_of_range", 5, 8, "rungs"],
    ]);
    expect(e.issues.map((i) => i.message)).toEqual([
      'unknown key "colour" (known keys: version, model, candidates, rungs)',
      "must be 1 (got 2)",
      'must be at least 1 character long (got 0)',
      "must have at least 1 item (got 0)",
    ]);
  });

  it("empty values point at their key; an empty document at 1:1", () => {
    const e = specError(() => parseYamlText("version: 1\nmodel:\ncandidates:\nrungs: [layers]\n", "s.yaml", GateSpec, "gate spec"));
    expect(e.issues.map(brief)).toEqual([
      ["invalid_type", 2, 1, "model"],
      ["invalid_type", 3, 1, "candidates"],
    ]);
    expect(e.issues[1]?.message).toBe("expected a map, got null");
    const empty = specError(() => parseYamlText("", "s.yaml", GateSpec, "gate spec"));
    expect(empty.message).toBe("s.yaml:1:1: expected a map, got null");
  });

  it("flow collections, list items and non-finite numbers", () => {
    const schema = z.strictObject({
      layers: z.array(z.strictObject({ min_cos: z.number().check(z.minimum(0)) })),
      tol: z.number(),
      n: z.number().check(z.int()),
    });
    const text = "layers:\n  - { min_cos: 0.5 }\n  - { min_cos: -1 }\ntol: .inf\nn: 1.5\n";
    const e = specError(() => parseYamlText(text, "s.yaml", schema, "spec"));
    expect(e.issues.map(brief)).toEqual([
      ["out_of_range", 3, 16, "layers[1].min_cos"],
      ["invalid_type", 4, 6, "tol"],
      ["invalid_type", 5, 4, "n"],
    ]);
    expect(e.issues.map((i) => i.message)).toEqual(["must be >= 0 (got -1)", "expected a finite number, got .inf", "expected an integer, got 1.5"]);
  });

  it("unions report the closest variant, or the alternatives", () => {
    const schema = z.strictObject({
      u: z.union([z.number(), z.strictObject({ k: z.string() })]),
      v: z.union([z.number(), z.literal("auto")]),
      c: z.discriminatedUnion("kind", [z.object({ kind: z.literal("linear") }), z.object({ kind: z.literal("cosine") })]),
    });
    const e = specError(() => parseYamlText("u: {k: 1}\nv: true\nc: {kind: lineer}\n", "s.yaml", schema, "spec"));
    expect(e.issues.map(brief)).toEqual([
      ["invalid_type", 1, 8, "u.k"],
      ["invalid_type", 2, 4, "v"],
      ["invalid_value", 3, 11, "c.kind"],
    ]);
    expect(e.issues[1]?.message).toBe('expected a number or "auto", got true');
    expect(e.issues[2]?.suggestion).toBe("linear");
  });

  it("record key failures point at the key; refinements keep their own message", () => {
    const schema = z.strictObject({
      r: z.record(z.string().check(z.regex(/^[a-z]+$/)), z.number()),
      x: z.number().check(z.refine((v) => v > 1, "x must exceed 1")),
    });
    const e = specError(() => parseYamlText("r:\n  ok: 1\n  A1: 2\nx: 1\n", "s.yaml", schema, "spec"));
    expect(e.issues.map(brief)).toEqual([
      ["invalid_key", 3, 3, "r.A1"],
      ["other", 4, 4, "x"],
    ]);
    expect(e.issues[0]?.message).toBe('invalid key "A1": must match /^[a-z]+$/');
    expect(e.issues[1]?.message).toBe("x must exceed 1");
  });
});

describe("lineColOf", () => {
  const path = fixture("valid.yaml");
  it("points at scalar values, and at the key of block collections", () => {
    expect(lineColOf(path, ["candidates", "int8", "thresholds", "layers", "min_cos"])).toEqual({ line: 17, column: 18 });
    expect(lineColOf(path, ["candidates", "int8", "thresholds", "logits", "min_cos"])).toEqual({ line: 18, column: 26 });
    expect(lineColOf(path, ["candidates", "int8", "thresholds", "logits"])).toEqual({ line: 18, column: 15 });
    expect(lineColOf(path, ["candidates", "int8", "thresholds"])).toEqual({ line: 15, column: 5 });
    expect(lineColOf(path, ["candidates", "int8", "positions", 2])).toEqual({ line: 19, column: 23 });
    expect(lineColOf(path, ["rungs", 1])).toEqual({ line: 20, column: 17 });
  });
  it("is undefined for absent fields and unreadable or invalid files", () => {
    expect(lineColOf(path, ["candidates", "int4"])).toBeUndefined();
    expect(lineColOf(path, ["rungs", 5])).toBeUndefined();
    expect(lineColOf(fixture("no-such-spec.yaml"), ["model"])).toBeUndefined();
    expect(lineColOf(fixture("duplicate-key.yaml"), ["model"])).toBeUndefined();
  });
});

describe("helpers", () => {
  it("formats field paths", () => {
    expect(formatFieldPath(["candidates", "int8", "thresholds"])).toBe("candidates.int8.thresholds");
    expect(formatFieldPath(["tensors", 3, "shape"])).toBe("tensors[3].shape");
    expect(formatFieldPath(["meta", "a.b"])).toBe('meta["a.b"]');
    expect(formatFieldPath([])).toBeUndefined();
  });
  it("suggests within edit distance 2 (1 for short words)", () => {
    expect(editDistance("treshold", "thresholds")).toBe(2);
    expect(editDistance("dtpye", "dtype")).toBe(1);
    expect(closest("treshold", ["path", "dtype", "thresholds", "positions"])).toBe("thresholds");
    expect(closest("tresh", ["thresholds"])).toBeUndefined();
    expect(closest("f64", ["f32", "f16", "bf16"])).toBeUndefined();
    expect(closest("int4", ["fp32", "fp16", "int8"])).toBe("int8");
  });
});
