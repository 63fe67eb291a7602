/**
 * The generic YAML loader every spec file goes through.
 *
 * `loadYamlFile` reads, parses and validates a YAML file against a Zod schema and throws a
 * `SpecError` (a `NumgateError`) that points at the offending node: `file:line:col: field: message`.
 * Every problem is reported, not just the first: the error's message has the first (in file order)
 * as its headline and the others as following lines, each with its own `file:line:col`, and the full
 * list is on `error.issues`.
 *
 * The JSON loader (`./json.ts`) goes through the same parser (JSON is YAML 1.2), locator, Zod-issue
 * translation and error types; it only adds the check that the text is strict JSON.
 */
import { readFileSync, statSync } from "node:fs";
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Parser } from "yaml";
import type { CST, Document, Node as YamlNode, Pair } from "yaml";
import type { z } from "zod/mini";
import { NumgateError } from "../errors/numgate-error.ts";
import type { NumgateErrorCode } from "../errors/numgate-error.ts";
import { cachedParse, storeParse } from "./parsed-cache.ts";

// ---------------------------------------------------------------------------------------------
// Issues and the error that carries them
// ---------------------------------------------------------------------------------------------

export type FieldPath = readonly (string | number)[];

export interface LineCol {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export type SpecIssueKind =
  /** The text is not well-formed YAML/JSON (including duplicate keys). */
  | "syntax"
  /** A key the (strict) schema does not know. `suggestion` holds a near-miss known key, if any. */
  | "unknown_key"
  /** A required key is absent; the location is the map that should hold it. */
  | "missing_key"
  /** The value has the wrong type (e.g. a string where a number belongs). */
  | "invalid_type"
  /** A number, string length or list length outside its bounds. */
  | "out_of_range"
  /** A value that is not one of the allowed options (enum, literal, discriminator, union). */
  | "invalid_value"
  /** A record key that fails the key schema; the location is the key. */
  | "invalid_key"
  /** Anything else (formats, refinements, custom checks). */
  | "other";

export interface SpecIssue {
  readonly kind: SpecIssueKind;
  /** The file at fault, as passed to the loader. */
  readonly file: string;
  /** Path of the field inside the document (empty for the root and for syntax errors). */
  readonly path: FieldPath;
  /** `path` as text: `candidates.int8.thresholds.layers.min_cos`, `tensors[3].shape`; undefined for the root. */
  readonly field: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** Human message, without the location prefix. */
  readonly message: string;
  /** For `unknown_key` / `invalid_value`: the closest known key or option within edit distance 2. */
  readonly suggestion: string | undefined;
  /** The Zod issue code, or the parser's error code for syntax issues. */
  readonly sourceCode: string | undefined;
}

/** `file:line:col: field: message` for one issue (the same shape NumgateError gives its headline). */
export function formatSpecIssue(issue: SpecIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  return issue.field === undefined ? `${where}: ${issue.message}` : `${where}: ${issue.field}: ${issue.message}`;
}

/**
 * A NumgateError ("invalid_yaml", "invalid_json" or "schema_violation") carrying every issue found.
 * `file`/`field`/`line`/`column` are those of the first issue; `message` is the first issue's message
 * (or `headline` when given) followed by one line per further issue, each fully located.
 */
export class SpecError extends NumgateError {
  readonly issues: readonly SpecIssue[];
  /** What kind of file this is ("gate spec", "model manifest", ...), as passed to the loader. */
  readonly what: string;

  constructor(
    code: NumgateErrorCode,
    file: string,
    what: string,
    issues: readonly SpecIssue[],
    options: { headline?: string; detail?: string; cause?: unknown } = {},
  ) {
    const first = issues[0];
    const lines = [options.headline ?? first?.message ?? `invalid ${what}`];
    if (options.detail !== undefined && options.detail !== "") lines.push(options.detail);
    for (const issue of issues.slice(1)) lines.push(`  ${formatSpecIssue(issue)}`);
    super(code, lines.join("\n"), {
      file,
      ...(first?.field === undefined ? {} : { field: first.field }),
      ...(first?.line === undefined ? {} : { line: first.line }),
      ...(first?.column === undefined ? {} : { column: first.column }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.issues = issues;
    this.what = what;
  }
}

export function isSpecError(e: unknown): e is SpecError {
  return e instanceof SpecError;
}

/** `a.b[0].c`; keys that are not plain identifiers are bracket-quoted: `a["x.y"]`. */
export function formatFieldPath(path: FieldPath): string | undefined {
  if (path.length === 0) return undefined;
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Public loaders
// ---------------------------------------------------------------------------------------------

/** Reads `path` as UTF-8 without a byte-order mark; "file_not_found" / "file_unreadable" naming the path. */
export function readSpecText(path: string, what: string): string {
  try {
    return withoutBom(readFileSync(path, "utf8"));
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code;
    if (errno === "ENOENT") throw new NumgateError("file_not_found", `${what} not found`, { file: path, cause });
    const why = errno ?? (cause instanceof Error ? cause.message : String(cause));
    throw new NumgateError("file_unreadable", `cannot read ${what} (${why})`, { file: path, cause });
  }
}

export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads, parses and validates a YAML file. Throws NumgateError / SpecError (see module doc). */
export function loadYamlFile<T>(path: string, schema: z.ZodMiniType<T>, what: string): T {
  return parseYamlText(readSpecText(path, what), path, schema, what);
}

/** Parses and validates YAML text; `path` is only used to name the file in errors. */
export function parseYamlText<T>(text: string, path: string, schema: z.ZodMiniType<T>, what: string): T {
  const cached = cachedParse(text);
  if (cached !== undefined) {
    return validateSpecData(cached.data, schema, path, what, "yaml", () => specLocator(parseSpecDocument(text, path, what, "yaml"), "yaml"));
  }
  const parsed = parseSpecDocument(text, path, what, "yaml");
  const { doc, lineCounter } = parsed;
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      return syntaxIssue(path, splitPrettyMessage(e.message).message, { line: pos.line, column: pos.col }, e.code);
    });
    const first = doc.errors[0];
    throw syntaxError("yaml", path, what, issues, {
      detail: first === undefined ? "" : indent(splitPrettyMessage(first.message).snippet, "    "),
      cause: first,
    });
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (cause) {
    // e.g. "Excessive alias count indicates a resource exhaustion attack".
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new NumgateError("invalid_yaml", `${what} is not valid YAML: ${message}`, { file: path, cause });
  }
  if (doc.warnings.length === 0) storeParse(text, data);
  return validateSpecData(data, schema, path, what, "yaml", () => specLocator(parsed, "yaml"));
}

/**
 * Where a field of a YAML (or JSON) spec file sits, for code that wants to point at it (e.g. an
 * annotation on a threshold). Scalars: the value; block maps/lists: their key. Undefined when the file cannot be
 * read or parsed, or the field is absent. Parsed documents are cached per path and mtime.
 */
export function lineColOf(path: string, fieldPath: FieldPath): LineCol | undefined {
  let parsed: ParsedYaml;
  try {
    const mtimeMs = statSync(path).mtimeMs;
    const cached = docCache.get(path);
    if (cached !== undefined && cached.mtimeMs === mtimeMs) parsed = cached.parsed;
    else {
      parsed = parseSpecDocument(readSpecText(path, "spec"), path, "spec", "yaml");
      docCache.set(path, { mtimeMs, parsed });
    }
  } catch {
    return undefined;
  }
  if (parsed.doc.errors.length > 0) return undefined;
  return positionOf(parsed, fieldPath, "yaml");
}

// ---------------------------------------------------------------------------------------------
// Parsing (shared with json.ts: JSON is YAML 1.2, so yaml gives JSON its positions and duplicate keys)
// ---------------------------------------------------------------------------------------------

export type Dialect = "yaml" | "json";

/** How deep maps and lists may nest in a spec or manifest (real ones stay under 10). */
export const MAX_NESTING_DEPTH = 128;

export interface ParsedYaml {
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

const docCache = new Map<string, { mtimeMs: number; parsed: ParsedYaml }>();

/**
 * yaml's Document for `text` (its errors, duplicate keys included, are in `doc.errors`), after
 * refusing nesting deeper than MAX_NESTING_DEPTH with an "invalid_yaml" / "invalid_json" SpecError.
 *
 * yaml's lexer and parser run once: their tokens serve both the depth check and the composer
 * (what `parseDocument` does inside). Lexing the text twice, once for the check and once in
 * `parseDocument`, was about half of a tiny gate's spec loading.
 */
export function parseSpecDocument(text: string, file: string, what: string, dialect: Dialect): ParsedYaml {
  const lineCounter = new LineCounter();
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const tooDeep = tooDeepAt(tokens);
  if (tooDeep !== undefined) {
    const message = `nesting depth exceeds the limit of ${MAX_NESTING_DEPTH} levels`;
    throw syntaxError(dialect, file, what, [syntaxIssue(file, message, lineColAt(text, tooDeep), "NESTING_TOO_DEEP")]);
  }
  // logLevel "error": no process warnings (e.g. about collection keys) on the console; zod reports.
  const options = { prettyErrors: true, uniqueKeys: true, logLevel: "error" } as const;
  const docs = Array.from(new Composer(options).compose(tokens, true, text.length));
  const doc = docs[0];
  if (docs.length === 1 && doc !== undefined && doc.errors.length === 0 && doc.warnings.length === 0) return { doc, lineCounter };
  // A faulty file (or several documents) takes parseDocument's own path, so that its errors carry
  // exactly the located, prettified messages (and MULTIPLE_DOCS) they always had. The depth check
  // above has passed, so the composer's recursion is safe.
  const again = new LineCounter();
  return { doc: parseDocument(text, { ...options, lineCounter: again }), lineCounter: again };
}

/**
 * Offset of the first map or list nested deeper than MAX_NESTING_DEPTH, or undefined. It walks
 * yaml's CST, which yaml builds without recursion, because yaml's composer and `toJS` recurse once
 * per level: 100,000 levels overflow the stack or abort the process out of memory.
 */
function tooDeepAt(tokens: readonly CST.Token[]): number | undefined {
  const pending: { token: CST.Token | null | undefined; depth: number }[] = [];
  for (let i = tokens.length - 1; i >= 0; i--) pending.push({ token: tokens[i], depth: 0 });
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { token, depth } = next;
    if (token === null || token === undefined) continue;
    if (token.type === "document") pending.push({ token: token.value, depth });
    else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      if (depth >= MAX_NESTING_DEPTH) return token.offset;
      // Reversed, so that the first too-deep node in file order is the one reported.
      for (let i = token.items.length - 1; i >= 0; i--) {
        const item = token.items[i];
        if (item === undefined) continue;
        pending.push({ token: item.value, depth: depth + 1 });
        pending.push({ token: item.key, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/** 1-based line and column (UTF-16 units) of `offset`. */
export function lineColAt(text: string, offset: number): LineCol {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf("\n"); i >= 0 && i < end; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

export function syntaxIssue(file: string, message: string, at: LineCol | undefined, sourceCode: string | undefined, path: FieldPath = []): SpecIssue {
  return {
    kind: "syntax",
    file,
    path,
    field: formatFieldPath(path),
    line: at?.line,
    column: at?.column,
    message,
    suggestion: undefined,
    sourceCode,
  };
}

/** "invalid_yaml" / "invalid_json": `<what> is not valid YAML: <first issue>`, then the others. */
export function syntaxError(
  dialect: Dialect,
  file: string,
  what: string,
  issues: readonly SpecIssue[],
  options: { detail?: string; cause?: unknown } = {},
): SpecError {
  const [code, name] = dialect === "yaml" ? (["invalid_yaml", "YAML"] as const) : (["invalid_json", "JSON"] as const);
  return new SpecError(code, file, what, issues, { headline: `${what} is not valid ${name}: ${issues[0]?.message ?? "parse error"}`, ...options });
}

// ---------------------------------------------------------------------------------------------
// Node location
// ---------------------------------------------------------------------------------------------

/** yaml's pretty messages are "<msg> at line L, column C:\n\n<snippet>"; split them. */
function splitPrettyMessage(pretty: string): { message: string; snippet: string } {
  const m = /^([\s\S]*?) at line \d+, column \d+:?\n\n([\s\S]*)$/.exec(pretty);
  if (m === null) return { message: pretty.trim(), snippet: "" };
  return { message: (m[1] ?? pretty).trim(), snippet: (m[2] ?? "").replace(/\n+$/, "") };
}

function indent(text: string, prefix: string): string {
  return text === "" ? "" : text.split("\n").map((l) => (l === "" ? l : prefix + l)).join("\n");
}

interface YamlWalk {
  /** Deepest node reached (undefined when the document is empty). */
  node: YamlNode | undefined;
  /** The pair whose value `node` is, if any. */
  pair: Pair | undefined;
  /** How many path segments were resolved. */
  depth: number;
}

function resolveAlias(doc: Document.Parsed, node: unknown): unknown {
  let n = node;
  for (let i = 0; i < 64 && isAlias(n); i++) n = n.resolve(doc);
  return n;
}

function findPair(map: { items: unknown[] }, key: string | number): Pair | undefined {
  for (const item of map.items) {
    if (!isPair(item)) continue;
    const k = item.key;
    const kv = isScalar(k) ? k.value : k;
    if (kv !== null && typeof kv !== "object" && String(kv) === String(key)) return item as Pair;
  }
  return undefined;
}

function walkYaml(doc: Document.Parsed, path: FieldPath): YamlWalk {
  let node = resolveAlias(doc, doc.contents) as YamlNode | null | undefined;
  if (node === null || node === undefined) return { node: undefined, pair: undefined, depth: 0 };
  let pair: Pair | undefined;
  let depth = 0;
  for (const seg of path) {
    let next: unknown;
    let nextPair: Pair | undefined;
    if (isMap(node)) {
      nextPair = findPair(node, seg);
      next = nextPair?.value;
    } else if (isSeq(node) && typeof seg === "number") {
      next = node.items[seg];
    } else if (isSeq(node) && /^\d+$/.test(String(seg))) {
      next = node.items[Number(seg)];
    }
    next = resolveAlias(doc, next);
    if (next === null || next === undefined || typeof next !== "object" || !("range" in next)) {
      // A key with no value (`key:`) resolves to its pair: the caller points at the key.
      if (nextPair !== undefined && (next === null || next === undefined)) {
        return { node: undefined, pair: nextPair, depth: depth + 1 };
      }
      break;
    }
    node = next as YamlNode;
    pair = nextPair;
    depth++;
  }
  return { node, pair, depth };
}

function posOf(offset: number, lc: LineCounter): LineCol {
  const p = lc.linePos(offset);
  return { line: p.line, column: p.col };
}

function nodeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === "object" && "range" in node) {
    const range = (node as { range?: readonly number[] | null }).range;
    return range?.[0] ?? undefined;
  }
  return undefined;
}

/**
 * Where an error about a node points. Scalars: the value. Empty values: their key. Collections: their
 * key when they have one, in JSON always and in YAML for block collections (`thresholds:` on its own
 * line); a YAML flow collection (`positions: [0, 5]`) points at its bracket.
 */
function yamlValuePos(w: YamlWalk, lc: LineCounter, dialect: Dialect): LineCol | undefined {
  const keyStart = nodeStart(w.pair?.key);
  const node = w.node;
  if (node === undefined) return keyStart === undefined ? undefined : posOf(keyStart, lc);
  const start = nodeStart(node);
  const range = (node as { range?: readonly number[] | null }).range;
  const emptyScalar = isScalar(node) && node.value === null && range != null && range[0] === range[1];
  const keyedCollection = (isMap(node) || isSeq(node)) && (dialect === "json" || node.flow !== true);
  if ((emptyScalar || keyedCollection) && keyStart !== undefined) return posOf(keyStart, lc);
  if (start === undefined) return keyStart === undefined ? undefined : posOf(keyStart, lc);
  return posOf(start, lc);
}

/** Where the node at `fieldPath` sits (see `yamlValuePos`), or undefined when it is absent. */
export function positionOf(parsed: ParsedYaml, fieldPath: FieldPath, dialect: Dialect): LineCol | undefined {
  const found = walkYaml(parsed.doc, fieldPath);
  if (found.depth !== fieldPath.length) return undefined;
  return yamlValuePos(found, parsed.lineCounter, dialect);
}

/** The path of the map key that starts at `offset` (e.g. a duplicate key yaml reported), or undefined. */
export function keyPathAt(parsed: ParsedYaml, offset: number): FieldPath | undefined {
  // Recursion is bounded: parseSpecDocument refused anything nested deeper than MAX_NESTING_DEPTH.
  const search = (node: unknown, path: FieldPath): FieldPath | undefined => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        const keyPath = [...path, String(key)];
        if (nodeStart(pair.key) === offset) return keyPath;
        const inner = search(pair.value, keyPath);
        if (inner !== undefined) return inner;
      }
    } else if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) {
        const inner = search(item, [...path, i]);
        if (inner !== undefined) return inner;
      }
    }
    return undefined;
  };
  return search(parsed.doc.contents, []);
}

export function specLocator(parsed: ParsedYaml, dialect: Dialect): Locator {
  const { doc, lineCounter: lc } = parsed;
  return {
    value(path) {
      const w = walkYaml(doc, path);
      if (w.node === undefined && w.pair === undefined) return { line: 1, column: 1 };
      return yamlValuePos(w, lc, dialect);
    },
    key(path) {
      if (path.length === 0) return this.value(path);
      const parent = walkYaml(doc, path.slice(0, -1));
      const last = path[path.length - 1] as string | number;
      if (parent.depth === path.length - 1 && isMap(parent.node)) {
        const pair = findPair(parent.node, last);
        const start = nodeStart(pair?.key);
        if (start !== undefined) return posOf(start, lc);
      }
      return this.value(path);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Zod issues -> SpecIssues (shared with json.ts)
// ---------------------------------------------------------------------------------------------

/** Maps a field path to a position in the source. Shared with json.ts. */
export interface Locator {
  /** Position of the value at `path`, or of the deepest existing ancestor (missing keys: the parent map). */
  value(path: FieldPath): LineCol | undefined;
  /** Position of the key naming the last segment of `path` (falls back to `value`). */
  key(path: FieldPath): LineCol | undefined;
}

export interface ZodTranslation {
  file: string;
  /** The value that was validated (to describe what was found and what keys exist). */
  data: unknown;
  schema: z.ZodMiniType<unknown>;
  locator: Locator;
  /** Vocabulary: "map"/"list" for YAML, "object"/"array" for JSON. */
  dialect: Dialect;
}

/** Minimal view of a Zod issue (v4 `$ZodIssue`), to stay independent of its exact exported types. */
interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  received?: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  exact?: boolean;
  values?: unknown[];
  keys?: string[];
  divisor?: number | bigint;
  format?: string;
  pattern?: string;
  errors?: ZodIssueLike[][];
  issues?: ZodIssueLike[];
  discriminator?: string;
  options?: unknown[];
  note?: string;
}

/**
 * Validates parsed `data` against `schema`: the typed value, or a "schema_violation" SpecError listing
 * every issue, located by `locator()` (only called on failure). Shared with json.ts.
 */
export function validateSpecData<T>(
  data: unknown,
  schema: z.ZodMiniType<T>,
  path: string,
  what: string,
  dialect: Dialect,
  locator: () => Locator,
): T {
  // jitless: a spec or manifest is validated once per process, and zod's JIT compiles a fast path
  // per object schema (new Function, which no code cache keeps) that costs more than one small
  // parse saves (tiny gate: ~20-35 ms less wall time, paired runs). Reports, data-sized, keep it.
  const result = schema.safeParse(data, { jitless: true });
  if (result.success) return result.data;
  const issues = specIssuesFromZod(result.error.issues, { file: path, data, schema, locator: locator(), dialect });
  throw new SpecError("schema_violation", path, what, issues, { cause: result.error });
}

/**
 * Translates Zod issues to located, human SpecIssues, sorted in file order. Union failures are
 * expanded into the issues of the closest-matching variant; a "missing required key K" is folded
 * into an "unknown key" issue on the same map that already suggests K.
 */
export function specIssuesFromZod(zodIssues: readonly unknown[], t: ZodTranslation): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const zi of zodIssues) translateIssue(zi as ZodIssueLike, [], t, out);

  // Fold "missing thresholds" into "unknown key treshold; did you mean thresholds?".
  const suggested = new Set(
    out.filter((i) => i.kind === "unknown_key" && i.suggestion !== undefined).map((i) => pathKey([...i.path.slice(0, -1), i.suggestion as string])),
  );
  const kept = out.filter((i) => !(i.kind === "missing_key" && suggested.has(pathKey(i.path))));

  // Stable sort in file order; unlocated issues last.
  return kept
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => {
      const la = a.issue.line ?? Number.MAX_SAFE_INTEGER;
      const lb = b.issue.line ?? Number.MAX_SAFE_INTEGER;
      if (la !== lb) return la - lb;
      const ca = a.issue.column ?? 0;
      const cb = b.issue.column ?? 0;
      return ca !== cb ? ca - cb : a.index - b.index;
    })
    .map((x) => x.issue);
}

function pathKey(path: FieldPath): string {
  return JSON.stringify(path.map((s) => String(s)));
}

function toFieldPath(path: readonly PropertyKey[]): (string | number)[] {
  return path.map((s) => (typeof s === "symbol" ? String(s) : s));
}

function translateIssue(zi: ZodIssueLike, prefix: FieldPath, t: ZodTranslation, out: SpecIssue[]): void {
  const path: FieldPath = [...prefix, ...toFieldPath(zi.path)];
  const push = (
    kind: SpecIssueKind,
    message: string,
    at: LineCol | undefined,
    fieldPath: FieldPath = path,
    suggestion?: string,
  ): void => {
    out.push({
      kind,
      file: t.file,
      path: fieldPath,
      field: formatFieldPath(fieldPath),
      line: at?.line,
      column: at?.column,
      message,
      suggestion,
      sourceCode: zi.code,
    });
  };
  const found = valueAt(t.data, path);
  const got = found.exists ? describeValue(found.value, t.dialect) : "nothing";

  // A value absent from an existing map: zod says invalid_type (or invalid_value for enums/literals).
  if (!found.exists && path.length > 0 && zi.code !== "unrecognized_keys" && zi.code !== "invalid_key") {
    const parent = valueAt(t.data, path.slice(0, -1));
    const last = path[path.length - 1];
    if (parent.exists && isRecord(parent.value) && last !== undefined) {
      push("missing_key", `missing required key ${JSON.stringify(String(last))}`, t.locator.value(path));
      return;
    }
  }

  switch (zi.code) {
    case "unrecognized_keys": {
      const known = knownKeys(t.schema, path);
      const present = new Set(found.exists && isRecord(found.value) ? Object.keys(found.value) : []);
      for (const key of zi.keys ?? []) {
        const keyPath = [...path, key];
        const suggestion = closest(key, known.filter((k) => !present.has(k)));
        let message = `unknown key ${JSON.stringify(key)}`;
        if (suggestion !== undefined) message += `; did you mean ${JSON.stringify(suggestion)}?`;
        else if (known.length > 0) message += ` (known keys: ${known.join(", ")})`;
        push("unknown_key", message, t.locator.key(keyPath), keyPath, suggestion);
      }
      return;
    }
    case "invalid_type": {
      const expected = describeExpected(zi.expected, t.dialect);
      if ((zi.expected === "number" || zi.expected === "int") && typeof found.value === "number" && !Number.isFinite(found.value)) {
        push("invalid_type", `expected a finite number, got ${got}`, t.locator.value(path));
        return;
      }
      if (zi.expected === "int" && typeof found.value === "number") {
        push("invalid_type", `expected an integer, got ${got}`, t.locator.value(path));
        return;
      }
      push("invalid_type", `expected ${expected}, got ${got}`, t.locator.value(path));
      return;
    }
    case "too_small":
    case "too_big": {
      push("out_of_range", boundMessage(zi, found.value, got), t.locator.value(path));
      return;
    }
    case "not_multiple_of": {
      push("out_of_range", `must be a multiple of ${String(zi.divisor)} (got ${got})`, t.locator.value(path));
      return;
    }
    case "invalid_value": {
      const values = zi.values ?? [];
      const strings = values.filter((v): v is string => typeof v === "string");
      const suggestion = typeof found.value === "string" ? closest(found.value, strings) : undefined;
      let message =
        values.length === 1
          ? `must be ${literal(values[0])} (got ${got})`
          : `must be one of ${values.map(literal).join(", ")} (got ${got})`;
      if (suggestion !== undefined) message += `; did you mean ${JSON.stringify(suggestion)}?`;
      push("invalid_value", message, t.locator.value(path), path, suggestion);
      return;
    }
    case "invalid_union": {
      if (zi.discriminator !== undefined || (zi.errors !== undefined && zi.errors.length === 0)) {
        // Discriminated union with no matching tag: zod puts the discriminator in the path already.
        const options = zi.options ?? [];
        const strings = options.filter((v): v is string => typeof v === "string");
        const suggestion = typeof found.value === "string" ? closest(found.value, strings) : undefined;
        let message =
          options.length > 0
            ? `must be one of ${options.map(literal).join(", ")} (got ${got})`
            : `${lowerFirst(zi.message)} (got ${got})`;
        if (suggestion !== undefined) message += `; did you mean ${JSON.stringify(suggestion)}?`;
        push("invalid_value", message, t.locator.value(path), path, suggestion);
        return;
      }
      const arms = zi.errors ?? [];
      // Arms whose failures are all below the union's own level matched its shape: report the closest.
      const shaped = arms.filter((arm) => arm.length > 0 && arm.every((i) => i.path.length > 0 || i.code === "unrecognized_keys"));
      const best = shaped.reduce<ZodIssueLike[] | undefined>((b, arm) => (b === undefined || arm.length < b.length ? arm : b), undefined);
      if (best !== undefined) {
        for (const inner of best) translateIssue(inner, path, t, out);
        return;
      }
      const expectedTypes = [
        ...new Set(arms.flatMap((arm) => arm.filter((i) => i.path.length === 0 && i.code === "invalid_type").map((i) => describeExpected(i.expected, t.dialect)))),
      ];
      const literals = arms.flatMap((arm) => arm.filter((i) => i.path.length === 0 && i.code === "invalid_value").flatMap((i) => (i.values ?? []).map(literal)));
      const alternatives = [...expectedTypes, ...literals];
      const message =
        alternatives.length > 0 ? `expected ${alternatives.join(" or ")}, got ${got}` : `matches none of the allowed forms (got ${got})`;
      push("invalid_type", message, t.locator.value(path));
      return;
    }
    case "invalid_key": {
      const inner = (zi.issues ?? []).map((i) => lowerFirst(innerMessage(i))).join("; ");
      const last = path[path.length - 1];
      push("invalid_key", `invalid key ${JSON.stringify(String(last ?? ""))}${inner === "" ? "" : `: ${inner}`}`, t.locator.key(path));
      return;
    }
    case "invalid_element": {
      const inner = (zi.issues ?? []).map((i) => lowerFirst(innerMessage(i))).join("; ");
      push("other", inner === "" ? lowerFirst(zi.message) : `invalid element: ${inner}`, t.locator.value(path));
      return;
    }
    case "invalid_format": {
      push("other", `${lowerFirst(zi.message)} (got ${got})`, t.locator.value(path));
      return;
    }
    default: {
      // "custom" (refinements) and anything newer: the schema's own message.
      push("other", zi.message, t.locator.value(path));
    }
  }
}

function innerMessage(i: ZodIssueLike): string {
  if (i.code === "invalid_format" && i.format === "regex" && typeof i.pattern === "string") return `must match ${i.pattern}`;
  if (i.code === "invalid_value" && i.values !== undefined) return `must be one of ${i.values.map(literal).join(", ")}`;
  return i.message;
}

function boundMessage(zi: ZodIssueLike, value: unknown, got: string): string {
  const small = zi.code === "too_small";
  const bound = small ? zi.minimum : zi.maximum;
  const b = typeof bound === "bigint" ? bound.toString() : String(bound);
  switch (zi.origin) {
    case "number":
    case "int":
    case "bigint":
    case "date": {
      const op = small ? (zi.inclusive === false ? ">" : ">=") : zi.inclusive === false ? "<" : "<=";
      return `must be ${op} ${b} (got ${got})`;
    }
    case "string": {
      const len = typeof value === "string" ? ` (got ${value.length})` : "";
      if (zi.exact === true) return `must be exactly ${b} characters long${len}`;
      return `must be at ${small ? "least" : "most"} ${b} character${b === "1" ? "" : "s"} long${len}`;
    }
    case "array":
    case "set": {
      const len = Array.isArray(value) ? ` (got ${value.length})` : "";
      if (zi.exact === true) return `must have exactly ${b} item${b === "1" ? "" : "s"}${len}`;
      return `must have at ${small ? "least" : "most"} ${b} item${b === "1" ? "" : "s"}${len}`;
    }
    default:
      return `${lowerFirst(zi.message)} (got ${got})`;
  }
}

function lowerFirst(s: string): string {
  return s.length > 0 && /[A-Z][a-z]/.test(s.slice(0, 2)) ? s[0]?.toLowerCase() + s.slice(1) : s;
}

function literal(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return v.toString();
  return String(v);
}

function describeExpected(expected: string | undefined, dialect: Dialect): string {
  switch (expected) {
    case "object":
    case "record":
    case "map":
      return dialect === "yaml" ? "a map" : "an object";
    case "array":
    case "tuple":
    case "set":
      return dialect === "yaml" ? "a list" : "an array";
    case "number":
      return "a number";
    case "int":
      return "an integer";
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "null":
      return "null";
    case "bigint":
      return "an integer";
    case undefined:
      return "a different type";
    default:
      return expected;
  }
}

function describeValue(v: unknown, dialect: Dialect): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return dialect === "yaml" ? "a list" : "an array";
  switch (typeof v) {
    case "string": {
      const s = v.length > 40 ? `${v.slice(0, 37)}...` : v;
      return `string ${JSON.stringify(s)}`;
    }
    case "number":
      if (Number.isNaN(v)) return dialect === "yaml" ? ".nan" : "NaN";
      if (!Number.isFinite(v)) return dialect === "yaml" ? (v > 0 ? ".inf" : "-.inf") : String(v);
      return String(v);
    case "boolean":
      return String(v);
    case "bigint":
      return v.toString();
    case "object":
      return dialect === "yaml" ? "a map" : "an object";
    default:
      return typeof v;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function valueAt(data: unknown, path: FieldPath): { exists: boolean; value: unknown } {
  let cur: unknown = data;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      const i = typeof seg === "number" ? seg : Number(seg);
      if (!Number.isInteger(i) || i < 0 || i >= cur.length) return { exists: false, value: undefined };
      cur = cur[i];
    } else if (cur instanceof Map) {
      if (!cur.has(seg)) return { exists: false, value: undefined };
      cur = cur.get(seg);
    } else if (isRecord(cur)) {
      const k = String(seg);
      if (!Object.prototype.hasOwnProperty.call(cur, k)) return { exists: false, value: undefined };
      cur = cur[k];
    } else return { exists: false, value: undefined };
  }
  return { exists: true, value: cur };
}

// --- schema introspection (Zod 4 `_zod.def`) ------------------------------------------------------

interface ZodDefLike {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  getter?: () => unknown;
  valueType?: unknown;
  element?: unknown;
  items?: unknown[];
  rest?: unknown;
  options?: unknown[];
  left?: unknown;
  right?: unknown;
}

function defOf(schema: unknown): ZodDefLike | undefined {
  if (schema === null || typeof schema !== "object") return undefined;
  const zod = (schema as { _zod?: { def?: ZodDefLike } })._zod;
  return zod?.def;
}

/** The schemas that can apply at `path` (several under unions), wrappers removed. */
function schemasAt(schema: unknown, path: FieldPath, depth = 0): unknown[] {
  if (depth > 64) return [];
  const def = defOf(schema);
  if (def === undefined) return [];
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "catch":
    case "readonly":
    case "nonoptional":
    case "success":
      return schemasAt(def.innerType, path, depth + 1);
    case "pipe":
      return [...schemasAt(def.in, path, depth + 1), ...schemasAt(def.out, path, depth + 1)];
    case "lazy":
      return def.getter === undefined ? [] : schemasAt(def.getter(), path, depth + 1);
    case "union":
      return (def.options ?? []).flatMap((o) => schemasAt(o, path, depth + 1));
    case "intersection":
      return [...schemasAt(def.left, path, depth + 1), ...schemasAt(def.right, path, depth + 1)];
    default:
      break;
  }
  if (path.length === 0) return [schema];
  const [seg, ...rest] = path as [string | number, ...(string | number)[]];
  switch (def.type) {
    case "object": {
      const child = def.shape?.[String(seg)];
      return child === undefined ? [] : schemasAt(child, rest, depth + 1);
    }
    case "record":
    case "map":
      return schemasAt(def.valueType, rest, depth + 1);
    case "array":
    case "set":
      return schemasAt(def.element, rest, depth + 1);
    case "tuple": {
      const item = def.items?.[Number(seg)] ?? def.rest;
      return item === undefined ? [] : schemasAt(item, rest, depth + 1);
    }
    default:
      return [];
  }
}

/** Keys declared by the object schema(s) at `path`, in declaration order. */
function knownKeys(schema: unknown, path: FieldPath): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(schema, path)) {
    const def = defOf(s);
    if (def?.type === "object" && def.shape !== undefined) for (const k of Object.keys(def.shape)) keys.add(k);
  }
  return [...keys];
}

// --- suggestions ------------------------------------------------------------------------------

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.MAX_SAFE_INTEGER;
  for (let i = 1; i <= m; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      row[j] = v;
    }
  }
  return at(m, n);
}

/**
 * The candidate closest to `word` (case-insensitive, first on ties) within edit distance
 * `maxDistance` (default 2), tightened to 1 for words of up to 5 characters so that e.g. "f64" does
 * not suggest "f32".
 */
export function closest(word: string, candidates: readonly string[], maxDistance = 2): string | undefined {
  let best: string | undefined;
  let bestD = Math.min(maxDistance, word.length <= 5 ? 1 : maxDistance) + 1;
  const w = word.toLowerCase();
  for (const c of candidates) {
    if (c === word) continue;
    const dist = editDistance(w, c.toLowerCase());
    // Never suggest a word that shares nothing with the typo ("a" -> "b").
    if (dist < bestD && dist < Math.max(c.length, word.length)) {
      best = c;
      bestD = dist;
    }
  }
  return best;
}
