import { isNumgateError, type NumgateError } from "../../src/errors/numgate-error.ts";

/** Runs `f` and returns the NumgateError it throws; any other error is rethrown, and not throwing fails. */
export function catchErr(f: () => unknown): NumgateError {
  try {
    f();
  } catch (e) {
    if (isNumgateError(e)) return e;
    throw e;
  }
  throw new Error("expected a NumgateError");
}
