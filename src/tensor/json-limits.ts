/**
 * Guards for the JSON headers of numgate's binary containers (safetensors dumps, engine wire
 * frames). Those headers come from files and processes we do not control, and while V8's
 * JSON.parse is iterative, everything that walks the parsed value afterwards (JSON.stringify,
 * String(array), our own checks) recurses: a header nested ten thousand levels deep would end
 * in a RangeError far from the reader. So nesting is measured on the text before parsing, and
 * values quoted back in error messages go through a bounded, non-recursive preview.
 */

/** Legitimate headers nest 3 levels deep ({ name: { shape: [..] } }); this leaves ample room. */
export const MAX_JSON_NESTING = 32;

/**
 * The deepest [ / { nesting in `json`, counting only brackets outside strings; stops counting
 * once `limit` is passed (the answer is then limit + 1). Works on any text, valid JSON or not.
 */
export function jsonNestingDepth(json: string, limit = MAX_JSON_NESTING): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string; an escape consumes the next character, whatever it is.
      for (i++; i < json.length; i++) {
        const s = json.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return deepest;
}

/** One string token of JSON text, escapes included. Linear on text JSON.parse accepted. */
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;

export interface JsonShape {
  /** No object in the text repeats a key (however it is spelled: "a" and "\u0061" are one key). */
  readonly distinctKeys: boolean;
  /** Levels of nested arrays and objects; a scalar is 0, `[]` and `{}` are 1. */
  readonly depth: number;
}

/**
 * What JSON.parse does not say about text it accepted (`parsed` is what it returned): whether an
 * object repeats a key, and how deep the collections nest. JSON.parse keeps one value per repeated
 * key, so the text holds more keys than the parsed objects exactly when one repeats; the text's
 * keys are its colons outside strings, counted after one native replace removes the strings. A
 * scan per character took longer on cold code (it runs a few times per gate run, before V8
 * optimises it). Never recurses; only for text JSON.parse accepted (the string pattern is linear
 * there and the counts mean what they say).
 */
export function jsonShape(text: string, parsed: unknown): JsonShape {
  const bare = text.replace(JSON_STRING, "");
  let textKeys = 0;
  for (let i = bare.indexOf(":"); i !== -1; i = bare.indexOf(":", i + 1)) textKeys++;
  let parsedKeys = 0;
  let depth = 0;
  const pending: unknown[] = [parsed];
  const levels: number[] = [1];
  while (pending.length > 0) {
    const value = pending.pop();
    const level = levels.pop() ?? 1;
    if (value === null || typeof value !== "object") continue;
    if (level > depth) depth = level;
    const children = Array.isArray(value) ? value : Object.values(value);
    if (!Array.isArray(value)) parsedKeys += children.length;
    for (const child of children) {
      if (child !== null && typeof child === "object") {
        pending.push(child);
        levels.push(level + 1);
      }
    }
  }
  return { distinctKeys: textKeys === parsedKeys, depth };
}

/**
 * A short, single-line rendering of a parsed JSON value for error messages: at most `maxItems`
 * items per array or object, nested containers shown as [...] / {...}, strings cut at 40
 * characters. Never recurses more than one level, so it is safe on any parsed value.
 */
export function previewJson(value: unknown, maxItems = 8): string {
  const scalar = (v: unknown): string => {
    if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
    if (Array.isArray(v)) return v.length === 0 ? "[]" : `[...${v.length} items]`;
    if (v !== null && typeof v === "object") return "{...}";
    return String(v); // number, boolean, null
  };
  if (Array.isArray(value)) {
    const shown = value.slice(0, maxItems).map(scalar);
    if (value.length > maxItems) shown.push(`... (${value.length} items)`);
    return `[${shown.join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    const shown = keys.slice(0, maxItems).map((k) => `${scalar(k)}:${scalar((value as Record<string, unknown>)[k])}`);
    if (keys.length > maxItems) shown.push(`... (${keys.length} keys)`);
    return `{${shown.join(",")}}`;
  }
  return scalar(value);
}
