/**
 * Core AI zoo transcripts (formats of the zoo's conversion/coreai_gate.py and coreai_verify.py),
 * written here from the tiny model's text-count run: replayed as runs and re-checked, each flag
 * reported, the spec's `transcripts.fail_on` deciding which fail.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildReport } from "../../src/report/build.ts";
import { serializeReport } from "../../src/report/json.ts";
import { renderJunit } from "../../src/report/junit.ts";
import { logitMarginLowerBound, readZooTranscript } from "../../src/transcripts/coreai.ts";
import { DEFAULT_POLICY, recheck, transcriptRun } from "../../src/transcripts/recheck.ts";
import { ROOT } from "../helpers/gate-runs.ts";

const F = join(ROOT, "tests/fixtures/transcripts");
const flags = (file: string, policy = DEFAULT_POLICY) => recheck(readZooTranscript(file.startsWith("/") ? file : join(F, file)), policy).map((f) => f.flag);

describe("Core AI zoo transcripts", () => {
  it("flags a text-only, unpinned PASS and a PASS_TIE resting on a probability near-tie", () => {
    expect(flags("tiny-text-only.json")).toEqual(["unpinned_weights", "text_only"]);
    expect(flags("tiny-pass-tie.json")).toEqual(["near_tie", "text_only"]);
    expect(flags("tiny-text-only.json", { ...DEFAULT_POLICY, minTokens: 24 })).toEqual(["unpinned_weights", "text_only", "short"]);
    const tie = recheck(readZooTranscript(join(F, "tiny-pass-tie.json")), DEFAULT_POLICY)[0]!;
    expect(tie.message).toContain("first step 3: 0.0400 (a logit gap of at least 0.0408");
  });

  it("margins are probabilities: a probability gap bounds the logit gap from below only", () => {
    expect(logitMarginLowerBound(0)).toBe(0);
    expect(logitMarginLowerBound(0.1)).toBeCloseTo(0.10536, 5);
    // p1 = 0.05, p2 = 0.01: a 0.04 probability "tie" is a 1.6-logit gap.
    expect(Math.log(0.05 / 0.01)).toBeGreaterThan(logitMarginLowerBound(0.04) * 30);
  });

  it("the spec decides which flags fail; every flag is reported either way; reports validate and render", () => {
    const t = readZooTranscript(join(F, "tiny-text-only.json"));
    const lenient = transcriptRun(t, { failOn: ["near_tie"], nearTieProbability: 0.1, minTokens: 16 }, "qwen3-vl-tiny", "gates/qwen3-vl-tiny.yaml");
    expect(lenient.verdict).toBe("pass");
    expect(lenient.rungs[0]!.message).toContain("note text_only");
    const strict = transcriptRun(t, DEFAULT_POLICY, "qwen3-vl-tiny", "gates/qwen3-vl-tiny.yaml");
    expect(strict.verdict).toBe("fail");
    expect(strict.rungs[0]!.units["oracle_margin"]).toContain("probability");
    const tie = transcriptRun(readZooTranscript(join(F, "tiny-pass-tie.json")), DEFAULT_POLICY, "qwen3-vl-tiny", "x");
    expect(tie.rungs[0]!.prompts[0]!.evidence).toMatchObject({ kind: "greedy", matches: 3, total: 16, first_divergence: { step: 3, oracle_margin: 0.04 } });
    const report = buildReport([lenient, tie]);
    expect(() => serializeReport(report)).not.toThrow();
    expect(renderJunit(report)).toContain('failures="1"');
  });

  it("reads coreai-verify-transcript/1 too, and names an unknown schema", () => {
    const dir = mkdtempSync(join(tmpdir(), "numgate-tr-"));
    const g = JSON.parse(readFileSync(join(F, "tiny-text-only.json"), "utf8"));
    const v = { schema: "coreai-verify-transcript/1", bundle: "b", oracle_model: "numgate/qwen3-vl-tiny", oracle_revision: "abc", cap: 16, input_ids: g.input_ids, oracle_ids: g.oracle.gen_ids, oracle_text: g.oracle.gen_text, bundle_text: g.oracle.gen_text, margins: g.oracle.top2_margins, result: "PASS" };
    writeFileSync(join(dir, "v.json"), JSON.stringify(v));
    expect(flags(join(dir, "v.json"), DEFAULT_POLICY)).toEqual(["text_only"]);
    writeFileSync(join(dir, "x.json"), JSON.stringify({ schema: "something/2" }));
    expect(() => readZooTranscript(join(dir, "x.json"))).toThrow(/not a Core AI zoo transcript \(schema "something\/2"/);
  });
});
