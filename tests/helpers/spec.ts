/** Shared setup of the spec-loader tests (tests/spec/): the fixture folder and catching the errors they throw. */
import { join } from "node:path";
import { expect } from "vitest";
import { NumgateError, isNumgateError } from "../../src/errors/numgate-error.ts";
import { SpecError } from "../../src/spec/yaml.ts";
import type { SpecIssue } from "../../src/spec/yaml.ts";

/** tests/fixtures/spec */
export const dir = join(import.meta.dirname, "..", "fixtures", "spec");
export const fixture = (name: string): string => join(dir, name);

/** Runs `fn`, which must throw a NumgateError, and returns it. */
export function thrown(fn: () => unknown): NumgateError {
  try {
    fn();
  } catch (e) {
    expect(isNumgateError(e), String(e)).toBe(true);
    return e as NumgateError;
  }
  throw new Error("expected a NumgateError, nothing was thrown");
}

/** Runs `fn`, which must throw a SpecError, and returns it. */
export function specError(fn: () => unknown): SpecError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(SpecError);
  return e as SpecError;
}

/** An issue's kind, line, column and field, for compact expectations. */
export const brief = (i: SpecIssue): [string, number | undefined, number | undefined, string | undefined] => [i.kind, i.line, i.column, i.field];
