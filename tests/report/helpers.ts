import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { readReport, stampRunId } from "../../src/report/json.ts";
import type { Report } from "../../src/report/schema.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FIXTURE_DIR = join(ROOT, "tests", "fixtures", "report");
/** The report the golden tests pin: a recorded run (SOURCE_DATE_EPOCH=1795392000 numgate gate -c fp32,fault-layer-perturbed,fault-fp16-overflow). After re-recording, rerun with UPDATE_GOLDENS=1. */
export const SAMPLE_REPORT = join(FIXTURE_DIR, "recorded-report.json");
export const GOLDEN_DIR = join(FIXTURE_DIR, "golden");
export const ARTIFACTS = join(ROOT, "test-artifacts");

export function loadSample(): Report {
  return readReport(SAMPLE_REPORT);
}

export function clone<T>(x: T): T {
  return structuredClone(x);
}

/** A prompt that tries everything: script injection, CDATA end, ANSI escape, control character. */
export const EVIL_PROMPT = "evil <script>window.__numgate_xss=1;alert(1)</script> ]]> \u001b[31mred\u001b[0m\u0007";
/** What a reader should see of EVIL_PROMPT once escapes and controls are stripped. */
export const EVIL_VISIBLE = "<script>window.__numgate_xss=1;alert(1)</script> ]]>";

/** The sample with hostile strings planted in the first run's first prompt, a rung message and the spec path. */
export function hostileSample(): Report {
  const r = clone(loadSample());
  const run = r.runs[0];
  if (run === undefined) throw new Error("sample report has no runs");
  const rung = run.rungs.find((g) => g.prompts.length > 0);
  if (rung === undefined) throw new Error("sample report has no prompt results");
  const p = rung.prompts[0];
  if (p !== undefined) p.prompt = EVIL_PROMPT;
  rung.message = `${rung.message} \u001b[1m<b>bold</b>\u001b[0m`;
  return stampRunId(r); // the run id of the edited content, as a written report.json carries
}

/** Compares `actual` to the golden file; UPDATE_GOLDENS=1 rewrites it. */
export function expectGolden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (process.env["UPDATE_GOLDENS"] === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`golden ${path} is missing; run UPDATE_GOLDENS=1 npx vitest run tests/report`);
  const expected = readFileSync(path, "utf8");
  expect(actual, `differs from golden ${path}; rerun with UPDATE_GOLDENS=1 if intended`).toBe(expected);
}

export function artifactsDir(): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}

/** Every layers evidence in a report, with its rung. */
export function layerEvidences(r: Report) {
  return r.runs.flatMap((run) =>
    run.rungs.flatMap((rung) =>
      rung.prompts.flatMap((p) => (p.evidence.kind === "layers" ? [{ run, rung, prompt: p, ev: p.evidence }] : [])),
    ),
  );
}
