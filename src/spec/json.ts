/**
 * The generic JSON loader (manifests and other machine-written files).
 *
 * `loadJsonFile` reads, parses and validates a JSON file against a Zod schema. Errors are the same
 * as the YAML loader's (see `./yaml.ts`): "file_not_found" / "file_unreadable" naming the path,
 * "invalid_json" with the line and column of the fault (Node 20's JSON.parse does not report one, so
 * a small strict scanner finds it), and "schema_violation" as a `SpecError` listing every issue with
 * its field path and position. Duplicate keys, which JSON.parse silently resolves to the last one,
 * are reported as "invalid_json".
 */
import type { z } from "zod";
import { SpecError, formatFieldPath, readSpecText, validateSpecData } from "./yaml.ts";
import type { FieldPath, LineCol, Locator, SpecIssue } from "./yaml.ts";

/** Reads, parses and validates a JSON file. Throws NumgateError / SpecError. */
export function loadJsonFile<T>(path: string, schema: z.ZodType<T>, what: string): T {
  return parseJsonText(readSpecText(path, what), path, schema, what);
}

/** Parses and validates JSON text; `path` is only used to name the file in errors. */
export function parseJsonText<T>(text: string, path: string, schema: z.ZodType<T>, what: string): T {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let data: unknown;
  let parseError: unknown;
  try {
    data = JSON.parse(source);
  } catch (cause) {
    parseError = cause;
  }
  const scan = scanJson(source);

  if (parseError !== undefined) {
    const fault = scan.ok ? undefined : scan.error;
    const message = fault?.message ?? (parseError instanceof Error ? parseError.message : String(parseError));
    const at = fault === undefined ? undefined : lineColAt(source, fault.pos);
    const issue = syntaxIssue(path, message, at);
    throw new SpecError("invalid_json", path, what, [issue], {
      headline: `${what} is not valid JSON: ${message}`,
      cause: parseError,
    });
  }
  if (scan.ok && scan.duplicates.length > 0) {
    const issues = scan.duplicates.map((d) => syntaxIssue(path, `duplicate key ${JSON.stringify(d.key)}`, lineColAt(source, d.pos), d.path));
    throw new SpecError("invalid_json", path, what, issues, {
      headline: `${what} is not valid JSON: ${issues[0]?.message ?? "duplicate key"}`,
    });
  }

  return validateSpecData(data, schema, path, what, "json", () =>
    scan.ok ? jsonLocator(source, scan.root) : { value: () => undefined, key: () => undefined },
  );
}

/** Where the value at `fieldPath` sits in JSON `text` (objects/arrays: their key), or undefined. */
export function jsonLineColOf(text: string, fieldPath: FieldPath): LineCol | undefined {
  const scan = scanJson(text);
  if (!scan.ok) return undefined;
  const w = walk(scan.root, fieldPath);
  if (w.depth !== fieldPath.length) return undefined;
  return lineColAt(text, anchor(w.node));
}

function syntaxIssue(file: string, message: string, at: LineCol | undefined, path: FieldPath = []): SpecIssue {
  return {
    kind: "syntax",
    file,
    path,
    field: formatFieldPath(path),
    line: at?.line,
    column: at?.column,
    message,
    suggestion: undefined,
    sourceCode: undefined,
  };
}

/** 1-based line and column (UTF-16 units) of `offset`. */
export function lineColAt(text: string, offset: number): LineCol {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

// ---------------------------------------------------------------------------------------------
// A strict JSON scanner that records where every value and key starts
// ---------------------------------------------------------------------------------------------

interface JsonLoc {
  kind: "object" | "array" | "scalar";
  /** Offset of the value's first character. */
  start: number;
  /** Offset of the key's opening quote when this value is an object member. */
  keyStart: number | undefined;
  members: Map<string, JsonLoc> | undefined;
  items: JsonLoc[] | undefined;
}

interface Duplicate {
  key: string;
  pos: number;
  path: (string | number)[];
}

type ScanResult =
  | { ok: true; root: JsonLoc; duplicates: Duplicate[] }
  | { ok: false; error: { pos: number; message: string } };

class JsonFault {
  constructor(
    readonly pos: number,
    readonly message: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function scanJson(text: string): ScanResult {
  let i = 0;
  const duplicates: Duplicate[] = [];

  const describeAt = (p: number): string => {
    if (p >= text.length) return "end of input";
    const cp = text.codePointAt(p) ?? 0;
    return cp < 0x20 ? `character U+${cp.toString(16).toUpperCase().padStart(4, "0")}` : `'${String.fromCodePoint(cp)}'`;
  };
  const fail = (what: string, p = i): never => {
    throw new JsonFault(p, `unexpected ${describeAt(p)}, expected ${what}`);
  };
  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const string = (): string => {
    const start = i;
    i++; // opening quote
    let escaped = false;
    for (;;) {
      if (i >= text.length) throw new JsonFault(start, "unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        break;
      }
      if (c < 0x20) throw new JsonFault(i, `control character U+${c.toString(16).toUpperCase().padStart(4, "0")} in string (escape it)`);
      if (c === 0x5c) {
        escaped = true;
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new JsonFault(i, "invalid \\u escape in string");
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else throw new JsonFault(i, `invalid escape '\\${e ?? ""}' in string`);
        continue;
      }
      i++;
    }
    const raw = text.slice(start, i);
    return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  };
  const value = (path: (string | number)[], keyStart: number | undefined): JsonLoc => {
    ws();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i++;
      const members = new Map<string, JsonLoc>();
      ws();
      if (text[i] === "}") {
        i++;
        return { kind: "object", start, keyStart, members, items: undefined };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("a string key");
        const kStart = i;
        const key = string();
        ws();
        if (text[i] !== ":") fail("':'");
        i++;
        const child = value([...path, key], kStart);
        if (members.has(key)) duplicates.push({ key, pos: kStart, path: [...path, key] });
        else members.set(key, child);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return { kind: "object", start, keyStart, members, items: undefined };
        }
        fail("',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const items: JsonLoc[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return { kind: "array", start, keyStart, members: undefined, items };
      }
      for (;;) {
        items.push(value([...path, items.length], undefined));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return { kind: "array", start, keyStart, members: undefined, items };
        }
        fail("',' or ']'");
      }
    }
    if (c === '"') {
      string();
      return { kind: "scalar", start, keyStart, members: undefined, items: undefined };
    }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return { kind: "scalar", start, keyStart, members: undefined, items: undefined };
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m !== null && m[0] !== "" && m[0] !== "-") {
      i += m[0].length;
      return { kind: "scalar", start, keyStart, members: undefined, items: undefined };
    }
    return fail("a value");
  };

  try {
    const root = value([], undefined);
    ws();
    if (i < text.length) fail("end of input");
    return { ok: true, root, duplicates };
  } catch (e) {
    if (e instanceof JsonFault) return { ok: false, error: { pos: e.pos, message: e.message } };
    // Nesting deeper than the stack allows: no location, but JSON.parse still decides validity.
    return { ok: false, error: { pos: text.length, message: "nesting too deep to locate" } };
  }
}

function walk(root: JsonLoc, path: FieldPath): { node: JsonLoc; depth: number } {
  let node = root;
  let depth = 0;
  for (const seg of path) {
    const next =
      node.members !== undefined
        ? node.members.get(String(seg))
        : node.items !== undefined
          ? node.items[typeof seg === "number" ? seg : Number(seg)]
          : undefined;
    if (next === undefined) break;
    node = next;
    depth++;
  }
  return { node, depth };
}

/** Scalars: the value; objects and arrays: their key when they have one. */
function anchor(node: JsonLoc): number {
  return node.kind !== "scalar" && node.keyStart !== undefined ? node.keyStart : node.start;
}

function jsonLocator(text: string, root: JsonLoc): Locator {
  return {
    value(path) {
      return lineColAt(text, anchor(walk(root, path).node));
    },
    key(path) {
      const w = walk(root, path);
      if (w.depth === path.length && w.node.keyStart !== undefined) return lineColAt(text, w.node.keyStart);
      return lineColAt(text, anchor(w.node));
    },
  };
}
