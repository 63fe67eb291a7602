import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod/mini";
import { cachedParse, configureParsedCache, jsonExact, storeParse } from "../../src/spec/parsed-cache.ts";
import { parseYamlText, SpecError } from "../../src/spec/yaml.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "numgate-parsed-cache-"));
  configureParsedCache({ dir, parser: "bundle-A" });
});
afterEach(() => {
  configureParsedCache(undefined);
  rmSync(dir, { recursive: true, force: true });
});

const Schema = z.strictObject({ model: z.string(), min_cos: z.number().check(z.maximum(1)) });

describe("the parsed-YAML cache", () => {
  it("a parsed file is stored once and read back as the same data", () => {
    const text = "model: tiny\nmin_cos: 0.99\n";
    expect(cachedParse(text)).toBeUndefined();
    expect(parseYamlText(text, "spec.yaml", Schema, "gate spec")).toEqual({ model: "tiny", min_cos: 0.99 });
    expect(readdirSync(dir)).toHaveLength(1);
    expect(cachedParse(text)).toEqual({ data: { model: "tiny", min_cos: 0.99 } });
    expect(parseYamlText(text, "spec.yaml", Schema, "gate spec")).toEqual({ model: "tiny", min_cos: 0.99 });
  });

  it("another text, or the same text parsed by another build, is a miss", () => {
    storeParse("a: 1\n", { a: 1 });
    expect(cachedParse("a: 2\n")).toBeUndefined();
    configureParsedCache({ dir, parser: "bundle-B" });
    expect(cachedParse("a: 1\n")).toBeUndefined();
  });

  it("an entry whose file name clashes with another text's is a miss, not that text's data", () => {
    storeParse("a: 1\n", { a: 1 });
    const [name] = readdirSync(dir);
    writeFileSync(join(dir, name ?? "?"), JSON.stringify({ parser: "bundle-A", text: "b: 1\n", data: { b: 1 } }));
    expect(cachedParse("a: 1\n")).toBeUndefined();
  });

  it("a corrupt entry is a miss, and the file is parsed again", () => {
    const text = "model: tiny\nmin_cos: 0.5\n";
    storeParse(text, { model: "tiny", min_cos: 0.5 });
    const [name] = readdirSync(dir);
    writeFileSync(join(dir, name ?? "?"), "{ truncated");
    expect(cachedParse(text)).toBeUndefined();
    expect(parseYamlText(text, "spec.yaml", Schema, "gate spec").min_cos).toBe(0.5);
  });

  it("a cached spec is still validated, and its fault located by parsing the text again", () => {
    const text = "model: tiny\nmin_cos: 1.5\n";
    const first = (() => {
      try {
        parseYamlText(text, "spec.yaml", Schema, "gate spec");
      } catch (e) {
        return e;
      }
    })();
    expect(cachedParse(text)).toBeDefined();
    const second = (() => {
      try {
        parseYamlText(text, "spec.yaml", Schema, "gate spec");
      } catch (e) {
        return e;
      }
    })();
    expect(second).toBeInstanceOf(SpecError);
    expect((second as SpecError).message).toBe((first as SpecError).message);
    expect([(second as SpecError).line, (second as SpecError).column, (second as SpecError).field]).toEqual([2, 10, "min_cos"]);
  });

  it("YAML that is not valid is never stored", () => {
    expect(() => parseYamlText("a: [1, 2\n", "bad.yaml", z.unknown(), "gate spec")).toThrow(SpecError);
    expect(readdirSync(dir)).toHaveLength(0);
  });

  it("data JSON would not give back exactly (.inf, .nan, -0) is not stored", () => {
    for (const text of ["x: .inf\n", "x: .nan\n", "x: -0.0\n"]) parseYamlText(text, "t.yaml", z.unknown(), "gate spec");
    expect(readdirSync(dir)).toHaveLength(0);
    expect(jsonExact({ a: [1, "b", null, true, { c: 0.5 }] })).toBe(true);
    expect(jsonExact({ a: new Map() })).toBe(false);
  });

  it("off unless configured", () => {
    configureParsedCache(undefined);
    parseYamlText("a: 1\n", "t.yaml", z.unknown(), "gate spec");
    expect(readdirSync(dir)).toHaveLength(0);
  });
});

describe("the parsed-YAML cache: texts that share a file name", () => {
  let d: string;
  beforeEach(() => {
    d = mkdtempSync(join(tmpdir(), "numgate-parsed-cache-"));
    configureParsedCache({ dir: d, parser: "bundle-A" });
  });
  afterEach(() => {
    configureParsedCache(undefined);
    rmSync(d, { recursive: true, force: true });
  });

  it("two long texts alike in length, head and tail (an edit in the middle) never read each other's data", () => {
    const filler = "#".repeat(2000);
    const a = `${filler}\nmin_cos: 0.91\n${filler}\n`;
    const b = `${filler}\nmin_cos: 0.92\n${filler}\n`;
    expect(parseYamlText(a, "a.yaml", z.unknown(), "gate spec")).toEqual({ min_cos: 0.91 });
    expect(parseYamlText(b, "b.yaml", z.unknown(), "gate spec")).toEqual({ min_cos: 0.92 });
    expect(readdirSync(d)).toHaveLength(1);
    expect(cachedParse(a)).toBeUndefined();
    expect(parseYamlText(a, "a.yaml", z.unknown(), "gate spec")).toEqual({ min_cos: 0.91 });
    expect(cachedParse(a)).toEqual({ data: { min_cos: 0.91 } });
  });
});

describe("the parsed-YAML cache: what a killed run leaves", () => {
  it("a temporary file over a minute old is removed when an entry is stored; a fresh one is left to its writer", () => {
    const d = mkdtempSync(join(tmpdir(), "numgate-parsed-cache-"));
    try {
      configureParsedCache({ dir: d, parser: "bundle-A" });
      const old = join(d, "abc.json.123.tmp");
      const fresh = join(d, "abc.json.456.tmp");
      writeFileSync(old, "{");
      writeFileSync(fresh, "{");
      const past = new Date(Date.now() - 120_000);
      utimesSync(old, past, past);
      storeParse("a: 1\n", { a: 1 });
      expect([existsSync(old), existsSync(fresh)]).toEqual([false, true]);
    } finally {
      configureParsedCache(undefined);
      rmSync(d, { recursive: true, force: true });
    }
  });
});
