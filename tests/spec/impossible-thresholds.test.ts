/**
 * Thresholds a rung can never meet are spec errors at load time, located at file:line:col with the
 * rung and field, never a silent cap that reads as a pass.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NumgateError, isNumgateError } from "../../src/errors/numgate-error.ts";
import { resolveSpec } from "../../src/run/resolve.ts";
import { LADDER_REL, MODEL, REPO, SPEC_REL, lineColIn, replaceAfter, replaceOnce } from "../helpers/cli.ts";

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A project root with the repo's spec and ladder, edited; returns the root and the edited texts. */
function project(edit: { spec?: (t: string) => string; ladder?: (t: string) => string }): { root: string; spec: string; ladder: string } {
  const root = mkdtempSync(join(tmpdir(), "numgate-impossible-"));
  roots.push(root);
  mkdirSync(join(root, "gates"));
  mkdirSync(join(root, "ladders"));
  const spec = (edit.spec ?? ((t) => t))(readFileSync(join(REPO, SPEC_REL), "utf8"));
  const ladder = (edit.ladder ?? ((t) => t))(readFileSync(join(REPO, LADDER_REL), "utf8"));
  writeFileSync(join(root, SPEC_REL), spec);
  writeFileSync(join(root, LADDER_REL), ladder);
  return { root, spec, ladder };
}

function resolveError(root: string): NumgateError {
  try {
    resolveSpec(root, MODEL);
  } catch (e) {
    if (isNumgateError(e)) return e;
    throw e;
  }
  throw new Error("expected a spec error");
}

const relTo = (root: string, p: string) => relative(process.cwd(), join(root, p));

describe("impossible thresholds", () => {
  it("greedy min_matches above the steps compared: the rung, the field and line:col of the override", () => {
    const { root, spec } = project({ spec: (t) => replaceAfter(t, ["  int8:", "      greedy:"], "min_matches: 24", "min_matches: 1000") });
    const e = resolveError(root);
    // Located at the value, as every override fault is.
    const at = lineColIn(spec, "1000");
    expect(e.code).toBe("schema_violation");
    expect(e.file).toBe(relTo(root, SPEC_REL));
    expect(e.field).toBe("candidates.int8.thresholds.greedy.min_matches");
    expect({ line: e.line, column: e.column }).toEqual(at);
    expect(e.message).toContain("rung greedy: min_matches 1000 can never be met: a greedy rung compares 24 steps (options.steps, default 24)");
  });

  it("fewer steps than the ladder's min_matches: located at the steps override that made it impossible", () => {
    const { root, spec } = project({
      spec: (t) => replaceOnce(t, "  fp32:\n    file: oracles/qwen3-vl-tiny/candidates/fp32.json\n", "  fp32:\n    file: oracles/qwen3-vl-tiny/candidates/fp32.json\n    options:\n      teacher_forced:\n        steps: 8\n"),
    });
    const e = resolveError(root);
    expect(e.field).toBe("candidates.fp32.options.teacher_forced.steps");
    expect({ line: e.line, column: e.column }).toEqual(lineColIn(spec, "8\n"));
    expect(e.message).toContain("rung teacher_forced: min_matches 16 can never be met: a teacher_forced rung compares 8 steps (options.steps)");
  });

  it("in the ladder itself: a load error at the ladder's line:col", () => {
    const { root, ladder } = project({ ladder: (t) => replaceOnce(t, "      min_matches: 24\n", "      min_matches: 25\n") });
    const e = resolveError(root);
    expect(e.file).toBe(relTo(root, LADDER_REL));
    expect(e.message).toContain("rung greedy: min_matches 25 can never be met: a greedy rung compares 24 steps");
    expect({ line: e.line, column: e.column }).toEqual(lineColIn(ladder, "25"));
  });

  it("a cosine threshold outside [-1, 1] in the ladder, with its line:col", () => {
    const { root, ladder } = project({ ladder: (t) => replaceOnce(t, "      min_logit_cos: 0.9999\n", "      min_logit_cos: 1.5\n") });
    const e = resolveError(root);
    expect(e.file).toBe(relTo(root, LADDER_REL));
    expect(e.message).toMatch(/rungs\[3\]\.thresholds\.min_logit_cos: .*1/);
    expect({ line: e.line, column: e.column }).toEqual(lineColIn(ladder, "1.5"));
  });

  it("top_k below 1 in a gate spec, with its line:col", () => {
    const { root, spec } = project({ spec: (t) => replaceAfter(t, ["  int8:", "      greedy:"], "min_matches: 24", "min_matches: 24\n        top_k: 0") });
    const e = resolveError(root);
    expect(e.field).toBe("candidates.int8.thresholds.greedy.top_k");
    const at = lineColIn(spec, "top_k: 0");
    expect(e.line).toBe(at.line);
  });

  it("a threshold another kind has, on a rung of this kind: names the kind and what it knows", () => {
    const { root, spec } = project({ spec: (t) => replaceAfter(t, ["  int8:", "      layers:"], "min_cos: 0.9999", "min_cos: 0.9999\n        min_matches: 3") });
    const e = resolveError(root);
    expect(e.field).toBe("candidates.int8.thresholds.layers.min_matches");
    expect(e.message).toContain('candidates.int8.thresholds.layers.min_matches: a layers rung has no threshold "min_matches" (known: min_cos, min_cos_worst_row)');
    expect(e.line).toBe(lineColIn(spec, "min_matches: 3").line);
  });

  it("the repo's own spec and ladder load", () => {
    expect(() => resolveSpec(REPO, MODEL)).not.toThrow();
  });
});
