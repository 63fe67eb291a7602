/**
 * The generic JSON loader (manifests and other machine-written files).
 *
 * `loadJsonFile` reads, parses and validates a JSON file against a Zod schema, through the YAML
 * loader's machinery (`./yaml.ts`: JSON is YAML 1.2): the same errors, positions and Zod-issue
 * translation, in JSON vocabulary. "invalid_json" carries the line and column of the fault, also for
 * duplicate keys (JSON.parse would silently keep the last one) and for what YAML allows but JSON does
 * not (comments, single quotes, trailing commas, NaN, anchors, several documents...).
 */
import { CST, Lexer } from "yaml";
import { jsonShape } from "../tensor/json-limits.ts";
import type { z } from "zod/mini";
import { keyPathAt, lineColAt, MAX_NESTING_DEPTH, parseSpecDocument, positionOf, readSpecText, specLocator, syntaxError, syntaxIssue, validateSpecData, withoutBom } from "./yaml.ts";
import type { FieldPath, LineCol } from "./yaml.ts";

export { lineColAt } from "./yaml.ts";

/** Reads, parses and validates a JSON file. Throws NumgateError / SpecError. */
export function loadJsonFile<T>(path: string, schema: z.ZodMiniType<T>, what: string): T {
  return parseJsonText(readSpecText(path, what), path, schema, what);
}

/** Parses and validates JSON text; `path` is only used to name the file in errors. */
export function parseJsonText<T>(text: string, path: string, schema: z.ZodMiniType<T>, what: string): T {
  const source = withoutBom(text);
  // The values come from JSON.parse (JSON's own numbers and keys); yaml's document only locates them.
  let data: unknown;
  let parseError: Error | undefined;
  try {
    data = JSON.parse(source);
  } catch (e) {
    parseError = e as Error;
  }
  // Most files are strict JSON without duplicate keys or deep nesting: JSON.parse and jsonShape
  // say so, and yaml (slow on JSON: ~100 ms for an oracle manifest) is only asked where and why.
  if (parseError === undefined && plainJsonShape(source, data)) {
    return validateSpecData(data, schema, path, what, "json", () => specLocator(parseSpecDocument(asYaml(source), path, what, "json"), "json"));
  }
  // strictJsonFault says where; should it ever miss a fault, JSON.parse's word stands, unlocated.
  const fault = strictJsonFault(source);
  if (fault !== undefined || parseError !== undefined) {
    const issue =
      fault === undefined
        ? syntaxIssue(path, parseError?.message ?? "", undefined, "JSON_SYNTAX")
        : syntaxIssue(path, fault.message, lineColAt(source, fault.offset), "JSON_SYNTAX");
    throw syntaxError("json", path, what, [issue], parseError === undefined ? {} : { cause: parseError });
  }
  const parsed = parseSpecDocument(asYaml(source), path, what, "json");
  // Other yaml errors on strict JSON would be yaml's own limits, not faults of the file.
  const duplicates = parsed.doc.errors.filter((e) => e.code === "DUPLICATE_KEY");
  if (duplicates.length > 0) {
    const issues = duplicates.map((e) => {
      const keyPath = keyPathAt(parsed, e.pos[0]) ?? [];
      const key = keyPath[keyPath.length - 1];
      const message = key === undefined ? "duplicate key" : `duplicate key ${JSON.stringify(String(key))}`;
      return syntaxIssue(path, message, lineColAt(source, e.pos[0]), e.code, keyPath);
    });
    throw syntaxError("json", path, what, issues);
  }
  return validateSpecData(data, schema, path, what, "json", () => specLocator(parsed, "json"));
}

/**
 * For text JSON.parse accepted (`data` is what it returned): true when no object repeats a key and
 * no collection nests deeper than MAX_NESTING_DEPTH allows (the two faults JSON.parse does not see).
 * False sends the text through yaml, which locates the fault.
 */
export function plainJsonShape(text: string, data: unknown): boolean {
  const shape = jsonShape(text, data);
  return shape.distinctKeys && shape.depth <= MAX_NESTING_DEPTH;
}

/** Where the value at `fieldPath` sits in JSON `text` (objects/arrays: their key), or undefined. */
export function jsonLineColOf(text: string, fieldPath: FieldPath): LineCol | undefined {
  if (strictJsonFault(text) !== undefined) return undefined;
  try {
    return positionOf(parseSpecDocument(asYaml(text), "", "JSON", "json"), fieldPath, "json");
  } catch {
    return undefined;
  }
}

/**
 * JSON text as yaml should read it. yaml does not break lines at a lone CR, which JSON reads as a
 * space (and forbids inside strings): it would lex "[1,\r2]" as a plain scalar "\r2". A space in its
 * place keeps every offset.
 */
function asYaml(text: string): string {
  return text.replace(/\r(?!\n)/g, " ");
}

// ---------------------------------------------------------------------------------------------
// Strict JSON over yaml's tokens
// ---------------------------------------------------------------------------------------------

export interface JsonFault {
  offset: number;
  message: string;
}

/** What the grammar accepts next; the "first-" states also accept the closing bracket. */
type Expect = "value" | "first-value" | "key" | "first-key" | "colon" | "after-value";

const JSON_LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
const STRING_RUN = /[^"\\\x00-\x1f]+|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;
const NOT_JSON_SPACE = /[^ \t\n\r]/;
/** yaml's lexer markers, which take no room in the text. */
const MARKERS = new Set(["doc-mode", "flow-error-end", "scalar"]);

/**
 * The first place `text` departs from strict JSON (RFC 8259), or undefined when it is strict JSON.
 * Node 20's JSON.parse does not say where most faults are, and yaml accepts a superset of JSON, so
 * yaml's lexer cuts the text into tokens and this checks their order against JSON's grammar (with an
 * explicit stack: no recursion however deep the text nests); a plain-scalar token must be a JSON
 * number or literal and a double-quoted one a JSON string.
 */
export function strictJsonFault(text: string): JsonFault | undefined {
  const open: ("{" | "[")[] = [];
  let expect: Expect = "value";
  let offset = 0;
  let plainNext = false;

  const expected = (): string => {
    if (expect === "value" || expect === "first-value") return "a value";
    if (expect === "key" || expect === "first-key") return "a string key";
    if (expect === "colon") return "':'";
    const top = open[open.length - 1];
    return top === "{" ? "',' or '}'" : top === "[" ? "',' or ']'" : "end of input";
  };
  const unexpected = (at: number): JsonFault => ({ offset: at, message: `unexpected ${describeChar(text, at)}, expected ${expected()}` });
  const expectsValue = (): boolean => expect === "value" || expect === "first-value";

  // Tokens only give types and lengths; characters are read from `text` itself (see asYaml).
  for (const token of new Lexer().lex(asYaml(text))) {
    // The token after a "scalar" marker is a plain scalar, whatever its first character.
    const type: string | null = plainNext ? "plain" : CST.tokenType(token);
    plainNext = type === "scalar";
    if (type !== "plain" && type !== null && MARKERS.has(type)) continue;
    const start = offset;
    offset += token.length;
    const raw = text.slice(start, offset);
    switch (type) {
      case "space":
      case "newline": {
        const bad = raw.search(NOT_JSON_SPACE);
        if (bad >= 0) return unexpected(start + bad);
        break;
      }
      case "double-quoted-scalar": {
        const isKey: boolean = expect === "key" || expect === "first-key";
        if (!isKey && !expectsValue()) return unexpected(start);
        const fault = stringFault(raw, start);
        if (fault !== undefined) return fault;
        expect = isKey ? "colon" : "after-value";
        break;
      }
      case "plain": {
        if (!expectsValue()) return unexpected(start);
        JSON_LITERAL.lastIndex = 0;
        const literal = JSON_LITERAL.exec(raw);
        if (literal === null) return unexpected(start);
        expect = "after-value";
        // yaml reads `01` or `true false` as one plain scalar; JSON stops after the literal.
        const rest = raw.slice(literal[0].length).search(NOT_JSON_SPACE);
        if (rest >= 0) return unexpected(start + literal[0].length + rest);
        break;
      }
      case "flow-map-start":
      case "flow-seq-start": {
        if (!expectsValue()) return unexpected(start);
        open.push(raw === "{" ? "{" : "[");
        expect = raw === "{" ? "first-key" : "first-value";
        break;
      }
      case "flow-map-end":
      case "flow-seq-end": {
        const top = open[open.length - 1];
        const opener = raw === "}" ? "{" : "[";
        const empty = expect === (opener === "{" ? "first-key" : "first-value");
        if (top !== opener || !(empty || expect === "after-value")) return unexpected(start);
        open.pop();
        expect = "after-value";
        break;
      }
      case "comma": {
        const top = open[open.length - 1];
        if (expect !== "after-value" || top === undefined) return unexpected(start);
        expect = top === "{" ? "key" : "value";
        break;
      }
      case "map-value-ind": {
        if (expect !== "colon") return unexpected(start);
        expect = "value";
        break;
      }
      default:
        // Comments, anchors, aliases, tags, single quotes, document markers, block indicators...
        return unexpected(start);
    }
  }
  return expect === "after-value" && open.length === 0 ? undefined : unexpected(text.length);
}

/** The fault in a double-quoted token starting at `start`, or undefined when it is a JSON string. */
function stringFault(token: string, start: number): JsonFault | undefined {
  let i = 1;
  STRING_RUN.lastIndex = i;
  while (STRING_RUN.exec(token) !== null) i = STRING_RUN.lastIndex;
  const c = token.charCodeAt(i);
  if (i === token.length - 1 && c === 0x22) return undefined;
  if (i >= token.length) return { offset: start, message: "unterminated string" };
  if (c < 0x20) return { offset: start + i, message: `control character ${codePointName(c)} in string (escape it)` };
  const escape = token[i + 1];
  if (escape === "u") return { offset: start + i, message: "invalid \\u escape in string" };
  return { offset: start + i, message: `invalid escape '\\${escape ?? ""}' in string` };
}

function describeChar(text: string, at: number): string {
  if (at >= text.length) return "end of input";
  const cp = text.codePointAt(at) ?? 0;
  return cp < 0x20 ? `character ${codePointName(cp)}` : `'${String.fromCodePoint(cp)}'`;
}

function codePointName(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}
