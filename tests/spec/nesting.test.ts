/**
 * Deeply nested input is refused with a located "invalid_json" / "invalid_yaml" error before any
 * recursive walk (yaml's composer, toJS, zod) could overflow the stack.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod/mini";
import { CandidateManifestSchema } from "../../src/candidate/manifest.ts";
import { jsonLineColOf, loadJsonFile, parseJsonText } from "../../src/spec/json.ts";
import { GateSpecSchema } from "../../src/spec/gate-spec.ts";
import { MAX_NESTING_DEPTH, lineColOf, loadYamlFile, parseYamlText } from "../../src/spec/yaml.ts";
import { REPO, removeTempDirs, tempDir } from "../helpers/cli.ts";
import { specError } from "../helpers/spec.ts";

const DEEP = 100_000;
const TOO_DEEP = `nesting depth exceeds the limit of ${MAX_NESTING_DEPTH} levels`;

const nestedArrays = (n: number): string => "[".repeat(n) + "]".repeat(n);
const nestedObjects = (n: number): string => '{"a":'.repeat(n) + "1" + "}".repeat(n);

afterAll(() => removeTempDirs());

describe("nesting depth", () => {
  it(`${DEEP} levels of JSON arrays: invalid_json at the first level too deep`, () => {
    const e = specError(() => parseJsonText(nestedArrays(DEEP), "deep.json", z.unknown(), "manifest"));
    expect(e.code).toBe("invalid_json");
    expect(e.message).toBe(`deep.json:1:${MAX_NESTING_DEPTH + 1}: manifest is not valid JSON: ${TOO_DEEP}`);
  });

  it("a real candidate manifest with a deeply nested extra key (which its loose schema would pass)", () => {
    const real = readFileSync(join(REPO, "oracles/qwen3-vl-tiny/candidates/fp32.json"), "utf8");
    const path = join(tempDir("numgate-nesting-"), "deep.json");
    writeFileSync(path, real.replace(/^\{/, `{"extra": ${nestedObjects(20_000)},`));
    const e = specError(() => loadJsonFile(path, CandidateManifestSchema, "candidate manifest"));
    expect([e.code, e.file, e.line]).toEqual(["invalid_json", path, 1]);
    expect(e.message).toContain(`candidate manifest is not valid JSON: ${TOO_DEEP}`);
  });

  it(`${DEEP} levels of YAML block lists and 20,000 of flow lists: invalid_yaml`, () => {
    const block = specError(() => parseYamlText("- ".repeat(DEEP) + "1\n", "deep.yaml", GateSpecSchema, "gate spec"));
    expect(block.code).toBe("invalid_yaml");
    expect(block.message).toBe(`deep.yaml:1:${2 * MAX_NESTING_DEPTH + 1}: gate spec is not valid YAML: ${TOO_DEEP}`);
    const flow = specError(() => parseYamlText(`model: ${nestedArrays(20_000)}\n`, "deep.yaml", GateSpecSchema, "gate spec"));
    expect([flow.code, flow.line]).toEqual(["invalid_yaml", 1]);
    expect(flow.message).toContain(TOO_DEEP);
  });

  it("a spec file nested too deep: loadYamlFile names it, lineColOf gives up quietly", () => {
    const path = join(tempDir("numgate-nesting-"), "deep.yaml");
    writeFileSync(path, `model: ${nestedObjects(20_000)}\n`);
    const e = specError(() => loadYamlFile(path, GateSpecSchema, "gate spec"));
    expect([e.code, e.file]).toEqual(["invalid_yaml", path]);
    expect(lineColOf(path, ["model"])).toBeUndefined();
    expect(jsonLineColOf(nestedArrays(20_000), [0])).toBeUndefined();
  });

  it(`exactly ${MAX_NESTING_DEPTH} levels still load`, () => {
    expect(parseJsonText(nestedArrays(MAX_NESTING_DEPTH), "ok.json", z.unknown(), "manifest")).toBeInstanceOf(Array);
    expect(parseYamlText(nestedArrays(MAX_NESTING_DEPTH), "ok.yaml", z.unknown(), "spec")).toBeInstanceOf(Array);
    expect(() => parseJsonText(nestedArrays(MAX_NESTING_DEPTH + 1), "x.json", z.unknown(), "manifest")).toThrow(TOO_DEEP);
  });
});
