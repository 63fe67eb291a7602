/**
 * Property-based fuzzing of the spec and manifest loaders (fast-check), shared by the quick run in
 * `npm test` (tests/spec/fuzz-loaders.test.ts) and the long one (`npx tsx bench/fuzz/loaders.ts`).
 *
 * Each loader gets texts made from its real files (bytes inserted, deleted, replaced or repeated;
 * leaves of the parsed document swapped for random values and the result re-serialised), random
 * JSON/YAML documents, deep nesting, huge numbers and odd unicode. The property: the loader returns
 * a value or throws a NumgateError naming the file (with a line inside the text, when it gives one);
 * anything else is a bug. A last "loader" checks the strict-JSON check against JSON.parse itself.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { stringify as toYaml } from "yaml";
import type { z } from "zod/mini";
import { CandidateManifestSchema } from "../../src/candidate/manifest.ts";
import { isNumgateError } from "../../src/errors/numgate-error.ts";
import { OracleManifestSchema } from "../../src/oracle/manifest.ts";
import { GateSpecSchema } from "../../src/spec/gate-spec.ts";
import { parseJsonText, strictJsonFault } from "../../src/spec/json.ts";
import { LadderSchema } from "../../src/spec/ladder.ts";
import { parseYamlText } from "../../src/spec/yaml.ts";

const REPO = join(import.meta.dirname, "..", "..");
const read = (rel: string): string => readFileSync(join(REPO, rel), "utf8");

export interface LoaderTarget {
  name: string;
  /** The property, in words. */
  claim: string;
  /** Texts to generate from. */
  arbitrary: fc.Arbitrary<string>;
  /** Throws when the property does not hold for `text`; else says what happened ("value", an error code...). */
  check(text: string): string;
}

// ---------------------------------------------------------------------------------------------
// Texts

/** Characters that matter to YAML or JSON, and unicode that parsers get wrong. */
const ODD_CHARS = [
  ..."{}[],:\"'#&*!-?|>%@`\\ \t\n\r.0123456789eE+",
  "\u0000", "\u0001", "\u001f", "\u007f", "\u0085", "\u00a0", "\u2028", "\u2029", "\ufeff", "\ufffe",
  "\ud800", "\udfff", "\u{1f600}", "e\u0301", "\u202e", "ǅ", "ﬁ",
];
const HUGE_NUMBERS = ["1e400", "-1e400", "1e-400", "123456789012345678901234567890", "9007199254740993", "-0", "0.1e+999999", "1".repeat(400), ".inf", "-.nan", "0x7fffffff", "0o17", "1_000"];

const oddChar = fc.oneof(fc.constantFrom(...ODD_CHARS), fc.string({ unit: "binary", minLength: 1, maxLength: 1 }));
const oddString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.array(oddChar, { maxLength: 8 }).map((cs) => cs.join("")),
  fc.constantFrom(...HUGE_NUMBERS),
);

type Mutation = (text: string) => string;
const at = (text: string, r: number): number => Math.floor(r * (text.length + 1));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), oddString).map(([r, s]): Mutation => (t) => t.slice(0, at(t, r)) + s + t.slice(at(t, r))),
  fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 40 })).map(([r, n]): Mutation => (t) => t.slice(0, at(t, r)) + t.slice(at(t, r) + n)),
  fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), oddChar).map(([r, c]): Mutation => (t) => t.slice(0, at(t, r)) + c + t.slice(at(t, r) + 1)),
  // Flip one bit of one UTF-16 unit.
  fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 0, max: 15 })).map(([r, bit]): Mutation => (t) => {
    const i = Math.min(at(t, r), t.length - 1);
    return i < 0 ? t : t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << bit)) + t.slice(i + 1);
  }),
  // Repeat a slice (duplicate keys, doubled brackets).
  fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 80 })).map(([r, n]): Mutation => (t) => {
    const i = at(t, r);
    return t.slice(0, i + n) + t.slice(i, i + n) + t.slice(i + n);
  }),
  // A number in the text replaced by a huge or odd one.
  fc.tuple(fc.nat(), fc.constantFrom(...HUGE_NUMBERS)).map(([k, n]): Mutation => (t) => {
    const numbers = [...t.matchAll(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)];
    const m = numbers[numbers.length === 0 ? 0 : k % numbers.length];
    return m?.index === undefined ? t : t.slice(0, m.index) + n + t.slice(m.index + m[0].length);
  }),
  fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }).map((r): Mutation => (t) => t.slice(0, at(t, r))),
);

/** A seed text with a few byte-level mutations. */
const mutatedText = (seeds: readonly string[]): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([seed, ms]) => ms.reduce((t, m) => m(t), seed));

/** Random JSON-ish values, with the odd strings and numbers above among the leaves. */
const leaf = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  oddString,
  fc.double(),
  fc.bigInt().map((b) => Number(b)),
  fc.constantFrom(null, true, false, 0, -0, 1e308, Number.MAX_SAFE_INTEGER + 2),
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `value` with the node at a random path (as chosen by `picks`) replaced by `replacement`. */
function replaceAt(value: Json, picks: readonly number[], replacement: Json): Json {
  const [pick, ...rest] = picks;
  if (pick === undefined || value === null || typeof value !== "object") return replacement;
  if (Array.isArray(value)) {
    if (value.length === 0) return [replacement];
    const i = pick % value.length;
    return value.map((v, j) => (j === i ? replaceAt(v, rest, replacement) : v));
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return { x: replacement };
  const key = keys[pick % keys.length] as string;
  return { ...value, [key]: replaceAt(value[key] as Json, rest, replacement) };
}

/** The seed documents with one leaf or subtree replaced by a random value (mostly schema faults). */
const mutatedDocument = (seeds: readonly Json[], serialise: (v: Json) => string): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...seeds), fc.array(fc.nat(), { maxLength: 6 }), leaf, fc.boolean())
    .map(([seed, picks, value, rename]) => {
      const replaced = replaceAt(seed, picks, value as Json);
      // Sometimes a key is misspelt instead (unknown-key paths, "did you mean").
      return serialise(rename ? (JSON.parse(JSON.stringify(replaced).replace(/"([a-z_]+)":/, '"$1x":')) as Json) : replaced);
    });

/** Brackets, braces and block indicators nested up to a few thousand deep, closed or not. */
const deepNesting: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 100, max: 3000 }), fc.constantFrom("[", '{"a":', "- ", "? ", "a:\n", "[{", "- ["), fc.boolean())
  .map(([n, open, close]) => {
    // Nesting by indentation costs n^2 characters: a few hundred levels are enough.
    const head = open === "a:\n" ? Array.from({ length: Math.min(n, 300) }, (_, i) => `${" ".repeat(i)}a:`).join("\n") : open.repeat(n);
    if (!close) return head;
    const closer = open === "[" ? "]" : open === '{"a":' ? "}" : open === "[{" ? "}]" : open === "- [" ? "]" : "";
    return head + "1" + closer.repeat(n);
  });

const randomJson: fc.Arbitrary<string> = fc
  .tuple(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(0, 1, 2, "\t"))
  .map(([v, indent]) => JSON.stringify(v, null, indent));
const randomYaml: fc.Arbitrary<string> = fc.jsonValue({ maxDepth: 6 }).map((v) => toYaml(v));

// ---------------------------------------------------------------------------------------------
// Targets

/** The property every loader must satisfy: a value, or a NumgateError about `file`. */
function expectValueOrNumgateError(load: () => unknown, file: string, text: string): string {
  try {
    load();
    return "value";
  } catch (e) {
    if (!isNumgateError(e)) throw new Error(`not a NumgateError: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (e.file !== file) throw new Error(`the error names ${String(e.file)}, not ${file}: ${e.message}`);
    const lines = text.split("\n").length;
    if (e.line !== undefined && (e.line < 1 || e.line > lines)) throw new Error(`line ${e.line} outside the text's ${lines} lines: ${e.message}`);
    return e.message.includes("nesting depth exceeds") ? `${e.code} (too deep)` : e.code;
  }
}

function yamlTarget(name: string, seedPaths: readonly string[], schema: z.ZodMiniType<unknown>, what: string): LoaderTarget {
  const seeds = seedPaths.map(read);
  const docs = seeds.map((s) => JSON.parse(JSON.stringify(parseYamlText(s, "seed.yaml", schema, what))) as Json);
  const file = `${name}.yaml`;
  return {
    name,
    claim: "a value or a NumgateError naming the file",
    arbitrary: fc.oneof(
      { arbitrary: mutatedText(seeds), weight: 5 },
      { arbitrary: mutatedDocument(docs, (v) => toYaml(v)), weight: 3 },
      { arbitrary: mutatedDocument(docs, (v) => JSON.stringify(v)), weight: 1 },
      { arbitrary: randomYaml, weight: 1 },
      { arbitrary: deepNesting, weight: 1 },
    ),
    check: (text) => expectValueOrNumgateError(() => parseYamlText(text, file, schema, what), file, text),
  };
}

function jsonTarget(name: string, seedPaths: readonly string[], schema: z.ZodMiniType<unknown>, what: string): LoaderTarget {
  const seeds = seedPaths.map(read);
  const docs = seeds.map((s) => JSON.parse(s) as Json);
  const file = `${name}.json`;
  return {
    name,
    claim: "a value or a NumgateError naming the file",
    arbitrary: fc.oneof(
      { arbitrary: mutatedText(seeds), weight: 5 },
      { arbitrary: mutatedDocument(docs, (v) => JSON.stringify(v, null, 2)), weight: 3 },
      { arbitrary: mutatedDocument(docs, (v) => toYaml(v)), weight: 1 },
      { arbitrary: randomJson, weight: 1 },
      { arbitrary: deepNesting, weight: 1 },
    ),
    check: (text) => expectValueOrNumgateError(() => parseJsonText(text, file, schema, what), file, text),
  };
}

const CANDIDATES = "oracles/qwen3-vl-tiny/candidates";
/** The candidate manifests (the folder also holds the recorder's ort-check.json, which is not one). */
const candidateManifests = readdirSync(join(REPO, CANDIDATES))
  .filter((f) => f.endsWith(".json") && read(`${CANDIDATES}/${f}`).includes('"format": "numgate.candidate"'))
  .map((f) => `${CANDIDATES}/${f}`);

export function loaderTargets(): LoaderTarget[] {
  const json = [...candidateManifests, "oracles/qwen3-vl-tiny/manifest.json"].map(read);
  return [
    yamlTarget("gate-spec", ["gates/qwen3-vl-tiny.yaml"], GateSpecSchema, "gate spec"),
    yamlTarget("ladder", ["ladders/qwen3-vl.yaml"], LadderSchema, "ladder"),
    jsonTarget("candidate-manifest", candidateManifests, CandidateManifestSchema, "candidate manifest"),
    jsonTarget("oracle-manifest", ["oracles/qwen3-vl-tiny/manifest.json"], OracleManifestSchema, "oracle manifest"),
    {
      name: "strict-json-check",
      claim: "finds a fault exactly when JSON.parse throws",
      arbitrary: fc.oneof(mutatedText(json), randomJson, deepNesting),
      check(text) {
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        const fault = strictJsonFault(text);
        if (parses !== (fault === undefined)) {
          throw new Error(parses ? `valid JSON refused: ${fault?.message ?? ""} at ${fault?.offset ?? -1}` : "invalid JSON passed the strict check");
        }
        return parses ? "valid JSON" : "invalid JSON";
      },
    },
  ];
}
