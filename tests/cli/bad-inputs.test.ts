/**
 * Bad inputs through the real CLI: each case builds a temp project root (gates/, ladders/, the
 * oracle's manifest + prompts, and the fp32 candidate files), breaks one thing, runs `numgate gate`
 * in a subprocess and checks the exit code, the message (file, field, file:line:col) and which
 * report files were written. All cases start together in beforeAll; each test awaits its own.
 */
import { rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readReport } from "../../src/report/json.ts";
import type { Report, Run, Rung } from "../../src/report/schema.ts";
import { oneLine } from "../../src/report/text.ts";
import {
  CANDIDATES_REL,
  FP32_FILES,
  MANIFEST_REL,
  MODEL,
  PROMPTS_REL,
  REPORT_FILES,
  LADDER_RUNG_IDS,
  RUNG_IDS,
  SPEC_REL,
  background,
  editFile,
  escapeRegExp,
  junitTestcases,
  lineColIn,
  makeTempRoot,
  readSpec,
  readText,
  removeTempDirs,
  replaceAfter,
  replaceOnce,
  reportFilesIn,
  runCli,
  tempDir,
  type CliResult,
  type TempRoot,
} from "../helpers/cli.ts";

interface Case {
  root: TempRoot;
  r: CliResult;
  /** Where the reports were asked to go (--report-dir). */
  out: string;
  /** Filled by the break step when a location matters (spec cases). */
  at?: { line: number; column: number };
}

/** A temp root with the fp32 candidate, broken by `breakIt`, then `numgate gate [args]` in it. */
function brokenRun(breakIt: (root: TempRoot) => { line: number; column: number } | void, args: string[] = []): Promise<Case> {
  return background(async () => {
    const root = makeTempRoot(FP32_FILES);
    const at = breakIt(root) ?? undefined;
    // cwd = the temp root, so the CLI's paths come out relative to it ("gates/qwen3-vl-tiny.yaml").
    const r = await runCli(["gate", ...args, "--report-dir", root.out], { cwd: root.dir, root: root.dir });
    return { root, r, out: root.out, ...(at === undefined ? {} : { at }) };
  });
}

interface SpecRuns {
  plain: Promise<Case>;
  all: Promise<Case>;
  /** `gate --quiet`, for the one case that checks the error still reaches stderr. */
  quiet?: Promise<Case>;
}

/**
 * The same broken spec run twice: plain `gate` (one run, attempted) and `gate --all-candidates`;
 * with `quiet`, a third time as `gate --quiet`.
 */
function brokenSpec(edit: (spec: string) => { text: string; needle: string }, quiet = false): SpecRuns {
  const breakIt = (root: TempRoot) => {
    let needle = "";
    const text = editFile(root.spec, (t) => {
      const e = edit(t);
      needle = e.needle;
      return e.text;
    });
    return lineColIn(text, needle);
  };
  return { plain: brokenRun(breakIt), all: brokenRun(breakIt, ["--all-candidates"]), ...(quiet ? { quiet: brokenRun(breakIt, ["--quiet"]) } : {}) };
}

const candidate = (name: string) => `${CANDIDATES_REL}/${name}`;
/** Anchors (for replaceAfter) down to the int8 candidate's `layers:` thresholds map. */
const INT8_LAYERS = ["\n  int8:\n", "\n    thresholds:\n", "\n      layers:\n"] as const;
const repoSpec = readSpec();

let cases: {
  missingPrompt: Promise<Case>;
  truncatedDump: Promise<Case>;
  missingOracle: Promise<Case>;
  thresholdsTypo: SpecRuns;
  thresholdKeyTypo: SpecRuns;
  yamlSyntax: SpecRuns;
  unknownRung: SpecRuns;
  missingGraph: Promise<Case>;
  corruptGraph: Promise<Case>;
  nonFinite: Promise<{ r: CliResult; out: string }>;
};

let truncatedSize = 0;

beforeAll(() => {
  cases = {
    missingPrompt: brokenRun((root) => rmSync(root.path(`${PROMPTS_REL}/text-count.safetensors`))),
    truncatedDump: brokenRun((root) => {
      const f = root.path(`${PROMPTS_REL}/mm-colours-a.safetensors`);
      truncatedSize = Math.floor(statSync(f).size / 2);
      truncateSync(f, truncatedSize);
    }),
    missingOracle: brokenRun((root) => rmSync(root.manifest)),
    // `treshold:` instead of `thresholds:` under the fp16 candidate.
    thresholdsTypo: brokenSpec((t) => {
      const from = "  fp16:\n    file: oracles/qwen3-vl-tiny/candidates/fp16.json\n    thresholds:";
      return { text: replaceOnce(t, from, from.replace("thresholds:", "treshold:")), needle: "treshold:" };
    }),
    // `min_coss` under the int8 candidate's (calibrated, block-map) layers thresholds.
    thresholdKeyTypo: brokenSpec(
      (t) => ({ text: replaceAfter(t, INT8_LAYERS, "\n        min_cos:", "\n        min_coss:"), needle: "min_coss" }),
      true,
    ),
    // Not YAML at all: a nested mapping in a compact one.
    yamlSyntax: brokenSpec((t) => ({ text: replaceOnce(t, "default_candidate: fp32\n", "default_candidate: fp32: x\n"), needle: "fp32: x" })),
    // Thresholds for a rung the ladder does not have.
    unknownRung: brokenSpec((t) => ({ text: replaceAfter(t, INT8_LAYERS.slice(0, 2), "\n      layers:\n", "\n      layerz:\n"), needle: "layerz" })),
    missingGraph: brokenRun((root) => rmSync(root.path(candidate("decoder-fp32.onnx")))),
    // --quiet: a setup failure is still printed in full.
    corruptGraph: brokenRun(
      (root) => writeFileSync(root.path(candidate("decoder-fp32.onnx")), Buffer.from("this is not an ONNX protobuf \u0000\u0001\u0002 garbage bytes".repeat(64))),
      ["--quiet"],
    ),
    // The real planted fault, run from the repo itself.
    nonFinite: background(async () => {
      const out = join(tempDir("numgate-bad-"), "reports");
      const r = await runCli(["gate", "-c", "fault-fp16-overflow", "--report-dir", out]);
      return { r, out };
    }),
  };
});

afterAll(() => removeTempDirs());

function reportOf(out: string): Report {
  return readReport(join(out, "report.json"));
}

/**
 * The single run of a report whose ladder could not start: the run carries the error itself
 * (run.error), and every rung the ladder knows of (none when the spec did not load) the same one.
 */
function setupError(out: string): { report: Report; run: Run; rungs: Rung[]; error: NonNullable<Run["error"]> } {
  const report = reportOf(out);
  expect(report.runs).toHaveLength(1);
  const run = report.runs[0]!;
  expect(run.verdict).toBe("error");
  expect(run.error).toBeDefined();
  const error = run.error!;
  for (const g of run.rungs) {
    expect(g.verdict, g.id).toBe("error");
    expect(g.error, g.id).toEqual(error);
  }
  return { report, run, rungs: run.rungs, error };
}

/**
 * A setup failure is reported in full: `numgate: <run id>: <code>: <message>` on stderr (the whole
 * NumgateError message), and a junit.xml testcase named `setup` with an <error> of that code.
 */
function expectSetupErrorReported(c: Case, run: Run, error: NonNullable<Run["error"]>): void {
  expect(c.r.stderr, c.r.transcript).toContain(`numgate: ${run.id}: ${error.code}: ${error.message}\n`);
  const setup = junitTestcases(readText(join(c.out, "junit.xml")), "setup");
  expect(setup).toHaveLength(1);
  expect(setup[0]!.problem).toMatchObject({ element: "error", type: error.code, message: oneLine(error.message) });
  expect(setup[0]!.problem?.body).toContain(`spec: ${run.spec_file}`);
  if (error.file !== undefined) expect(setup[0]!.problem?.body).toContain(`file: ${error.file}`);
  if (error.field !== undefined) expect(setup[0]!.problem?.body).toContain(`field: ${error.field}`);
}

/** Reports must exist whenever a run was attempted. */
function expectAllReports(out: string): void {
  expect(reportFilesIn(out)).toEqual([...REPORT_FILES]);
  const junit = readText(join(out, "junit.xml"));
  expect(junit).toMatch(/<error /);
}

describe("oracle problems", () => {
  it("a missing oracle prompt dump: names the manifest and the prompt; exit 1; reports written", async () => {
    const c = await cases.missingPrompt;
    expect(c.r.code, c.r.transcript).toBe(1);
    expect(c.r.stderr).toContain(
      `numgate: ${MODEL}/fp32: file_not_found: ${MANIFEST_REL}: prompts.text-count.file: prompt "text-count" names a dump that does not exist:`,
    );
    expect(c.r.stderr).toContain("text-count.safetensors");
    expectAllReports(c.out);
    const { run, rungs, error } = setupError(c.out);
    // Nothing could run: every rung of the ladder is an error carrying the same located error.
    expect(rungs.map((g) => [g.id, g.verdict])).toEqual(RUNG_IDS.map((id) => [id, "error"]));
    expect(error).toMatchObject({ code: "file_not_found", file: MANIFEST_REL, field: "prompts.text-count.file" });
    expect(error.message).toContain("text-count");
    expectSetupErrorReported(c, run, error);
  });

  it("a truncated safetensors dump: error naming that file; report.json has an error verdict with code safetensors_invalid", async () => {
    const c = await cases.truncatedDump;
    expect(truncatedSize).toBeGreaterThan(0);
    expect(c.r.code, c.r.transcript).toBe(1);
    expect(c.r.stderr).toMatch(/positions ERROR .*prompts\/mm-colours-a\.safetensors: .*\(file truncated\?\)/);
    expect(c.r.stdout).toContain("ERROR qwen3-vl-tiny/fp32");
    expectAllReports(c.out);
    const run = reportOf(c.out).runs[0]!;
    expect(run.verdict).toBe("error");
    // The ladder started (the dump is read by a rung): a rung error, not a setup failure.
    expect(run.error).toBeUndefined();
    expect(c.r.stderr).not.toMatch(/^numgate: /m);
    expect(junitTestcases(readText(join(c.out, "junit.xml")), "setup")).toEqual([]);
    const errored = run.rungs.filter((g) => g.verdict === "error");
    expect(errored.length).toBeGreaterThan(0);
    for (const g of errored) {
      expect(g.error?.code).toBe("safetensors_invalid");
      expect(g.error?.file).toMatch(/prompts\/mm-colours-a\.safetensors$/);
      expect(g.message).toContain("mm-colours-a.safetensors");
    }
    // The rungs that depend on an erred rung are skipped, not run on bad data.
    expect(run.rungs.find((g) => g.id === "layers")?.verdict).toBe("skipped");
    expect(readText(join(c.out, "junit.xml"))).toContain("mm-colours-a.safetensors");
  });

  it("a missing oracle (no manifest.json): says it is not recorded and prints the spec's record command", async () => {
    const c = await cases.missingOracle;
    expect(c.r.code, c.r.transcript).toBe(1);
    expect(c.r.stderr).toContain(`numgate: ${MODEL}/fp32: oracle_not_recorded: ${SPEC_REL}: oracle: the oracle for ${MODEL} is not recorded (${MANIFEST_REL} is missing)`);
    const how = repoSpec.record_command;
    expect(how).toBeDefined();
    // One line in the spec (a quoted scalar), printed as one indented line.
    expect(how).toMatch(/^python3 oracles\/record\/record\.py .* --candidates$/);
    expect(how).not.toContain("\n");
    expect(c.r.stderr).toContain(`\n  ${how!}\n`);
    expectAllReports(c.out);
    const { run, error } = setupError(c.out);
    expect(error).toMatchObject({ code: "oracle_not_recorded", file: SPEC_REL, field: "oracle" });
    expect(error.message).toContain(how!);
    expectSetupErrorReported(c, run, error);
  });
});

/**
 * Spec errors. `gate --all-candidates` loads the spec before any run, so the error reaches the
 * top level: exit 2, the located message, and no reports (nothing was attempted). Plain `gate`
 * attempts the run: exit 1, the located error in full on stderr as `numgate: <run id>: <code>:
 * <message>` (also with --quiet), and all three reports, whose run carries the error itself
 * (report.json's run.error, junit.xml's `setup` testcase).
 */
describe("gate spec problems", () => {
  interface SpecCase {
    what: string;
    runs: SpecRuns;
    code: string;
    /** The field the error names (none for a YAML syntax error). */
    field?: string;
    message: string;
  }
  const specCases = (): SpecCase[] => [
    { what: "treshold: instead of thresholds:", runs: cases.thresholdsTypo, code: "schema_violation", field: "candidates.fp16.treshold", message: 'unknown key "treshold"; did you mean "thresholds"?' },
    { what: "min_coss under a rung's thresholds", runs: cases.thresholdKeyTypo, code: "schema_violation", field: "candidates.int8.thresholds.layers.min_coss", message: 'unknown key "min_coss"; did you mean "min_cos"?' },
    { what: "a YAML syntax error", runs: cases.yamlSyntax, code: "invalid_yaml", message: "gate spec is not valid YAML: Nested mappings are not allowed in compact mappings" },
    { what: "a threshold for a rung that does not exist", runs: cases.unknownRung, code: "unknown_rung", field: "candidates.int8.thresholds.layerz", message: `no rung "layerz" in ladder qwen3-vl (rungs: ${LADDER_RUNG_IDS.join(", ")})` },
  ];
  /**
   * `<spec>:<line>:<col>: [<field>: ]<message>` as a regex source, at the broken text. The spec path
   * is relative for some errors and absolute for others (see expectSpecFile), hence the optional
   * leading directories.
   */
  const located = (s: SpecCase, at: { line: number; column: number }): string =>
    `(?:\\S*/)?${escapeRegExp(`${SPEC_REL}:${at.line}:${at.column}: ${s.field === undefined ? "" : `${s.field}: `}${s.message}`)}`;
  /** error.file names the temp root's spec (relative to the root, or absolute: both are accepted). */
  const expectSpecFile = (c: Case, file: string | undefined): void => {
    expect(file).toBeDefined();
    expect(resolve(c.root.dir, file!)).toBe(c.root.spec);
  };

  it("treshold: exit 2 with file:line:col, the field, and a did-you-mean; no reports (rejected before any run)", async () => {
    const c = await cases.thresholdsTypo.all;
    expect(c.r.code, c.r.transcript).toBe(2);
    expect(c.at).toBeDefined();
    expect(c.at).toMatchObject({ column: 5 });
    expect(c.r.stderr).toMatch(new RegExp(`^numgate: \\S*${escapeRegExp(`${SPEC_REL}:${c.at!.line}:5: `)}`));
    expect(c.r.stderr).toContain('candidates.fp16.treshold: unknown key "treshold"; did you mean "thresholds"?');
    expect(reportFilesIn(c.out)).toEqual([]);
  });

  it("min_coss: exit 2 pointing at the key inside the rung's block map, with a did-you-mean", async () => {
    const c = await cases.thresholdKeyTypo.all;
    expect(c.r.code, c.r.transcript).toBe(2);
    // The key is indented under `layers:` (and its `# calibrated ...` comment line).
    expect(c.at).toMatchObject({ column: 9 });
    expect(c.r.stderr).toContain(`${SPEC_REL}:${c.at!.line}:${c.at!.column}: candidates.int8.thresholds.layers.min_coss: unknown key "min_coss"; did you mean "min_cos"?`);
    // One typo, one issue: nothing else in the spec is reported.
    expect(c.r.stderr.trim().split("\n")).toHaveLength(1);
    expect(reportFilesIn(c.out)).toEqual([]);
  });

  it("a YAML syntax error: exit 2 with file:line:col of the fault and a source snippet", async () => {
    const c = await cases.yamlSyntax.all;
    expect(c.r.code, c.r.transcript).toBe(2);
    expect(c.r.stderr).toContain(`${SPEC_REL}:${c.at!.line}:${c.at!.column}: gate spec is not valid YAML: Nested mappings are not allowed in compact mappings`);
    expect(c.r.stderr).toContain("default_candidate: fp32: x");
    expect(reportFilesIn(c.out)).toEqual([]);
  });

  it("thresholds for a rung that does not exist: names the rung, the known rungs, and file:line:col", async () => {
    const c = await cases.unknownRung.all;
    expect(c.r.code, c.r.transcript).toBe(2);
    // A block map: the location is the key's own line and column.
    expect(c.at).toMatchObject({ column: 7 });
    expect(c.r.stderr).toMatch(
      new RegExp(
        `^numgate: unknown_rung: ${escapeRegExp(
          `${SPEC_REL}:${c.at!.line}:${c.at!.column}: candidates.int8.thresholds.layerz: no rung "layerz" in ladder qwen3-vl (rungs: ${LADDER_RUNG_IDS.join(", ")})`,
        )}$`,
        "m",
      ),
    );
    expect(reportFilesIn(c.out)).toEqual([]);
  });

  it("plain `gate` on each broken spec: exit 1, an error run in report.json, all three reports written", async () => {
    for (const s of specCases()) {
      const c = await s.runs.plain;
      expect(c.r.code, `${s.what}\n${c.r.transcript}`).toBe(1);
      expect(reportFilesIn(c.out), s.what).toEqual([...REPORT_FILES]);
      const run = reportOf(c.out).runs[0]!;
      expect(run.verdict, s.what).toBe("error");
      expect(run.spec_file, s.what).toBe(SPEC_REL);
      // The console summary shows the run's error under the run line.
      expect(c.r.stdout, s.what).toMatch(new RegExp(`^  ERROR  ${s.code}  ${located(s, c.at!)}`, "m"));
      expect(c.r.stdout, s.what).toContain("numgate: gates could not be evaluated (ERROR)");
    }
  });

  for (const [i, what] of ["treshold: instead of thresholds:", "min_coss under a rung's thresholds", "a YAML syntax error", "a threshold for a rung that does not exist"].entries()) {
    it(`plain \`gate\` prints the located spec error and reports carry it (${what})`, async () => {
      const s = specCases()[i]!;
      expect(s.what).toBe(what);
      const c = await s.runs.plain;
      expect(c.r.code, c.r.transcript).toBe(1);
      const { run, error } = setupError(c.out);
      // The spec did not load, so there is no ladder: the run has no rungs, only its error.
      expect(run.rungs).toEqual([]);
      expect(error.code).toBe(s.code);
      expect(error.field).toBe(s.field);
      expectSpecFile(c, error.file);
      expect(error.message).toMatch(new RegExp(`^${located(s, c.at!)}`));
      expect(c.r.stderr).toMatch(new RegExp(`^numgate: ${escapeRegExp(run.id)}: ${s.code}: ${located(s, c.at!)}`, "m"));
      expectSetupErrorReported(c, run, error);
    });
  }

  it("plain `gate --quiet` still prints the located spec error in full, and nothing else", async () => {
    const c = await cases.thresholdKeyTypo.quiet!;
    expect(c.r.code, c.r.transcript).toBe(1);
    expect(c.r.stdout).toBe("");
    const { run, error } = setupError(c.out);
    expect(c.r.stderr).toBe(`numgate: ${run.id}: schema_violation: ${error.message}\n`);
    expect(error.message).toMatch(new RegExp(`^${located(specCases()[1]!, c.at!)}$`));
    expect(reportFilesIn(c.out)).toEqual([...REPORT_FILES]);
  });
});

describe("candidate problems", () => {
  it("a candidate .json naming a graph file that does not exist: names the candidate manifest and files.decoder", async () => {
    const c = await cases.missingGraph;
    expect(c.r.code, c.r.transcript).toBe(1);
    expect(c.r.stderr).toContain(`numgate: ${MODEL}/fp32: file_not_found: ${candidate("fp32.json")}: files.decoder: candidate decoder graph `);
    expect(c.r.stderr).toMatch(/decoder-fp32\.onnx does not exist$/m);
    expectAllReports(c.out);
    const { run, rungs, error } = setupError(c.out);
    expect(rungs.map((g) => g.verdict)).toEqual(RUNG_IDS.map(() => "error"));
    expect(error).toMatchObject({ code: "file_not_found", file: candidate("fp32.json"), field: "files.decoder" });
    expectSetupErrorReported(c, run, error);
  });

  it("a corrupt ONNX graph (--quiet): a backend error naming the graph file, still printed in full", async () => {
    const c = await cases.corruptGraph;
    expect(c.r.code, c.r.transcript).toBe(1);
    expect(c.r.stderr).toContain(`numgate: ${MODEL}/fp32: backend_failed: ${candidate("decoder-fp32.onnx")}: onnxruntime could not load the decoder graph: `);
    // --quiet: no progress and no summary, only the setup error.
    expect(c.r.stdout).toBe("");
    expect(c.r.stderr.trim().split("\n")).toHaveLength(1);
    expectAllReports(c.out);
    const { run, error } = setupError(c.out);
    expect(error).toMatchObject({ code: "backend_failed", file: candidate("decoder-fp32.onnx") });
    expectSetupErrorReported(c, run, error);
  });

  it("NaN/Inf in the candidate (fault-fp16-overflow): error verdict naming hidden_states and layer 2; reports written", async () => {
    const { r, out } = await cases.nonFinite;
    expect(r.code, r.transcript).toBe(1);
    expect(r.stderr).toMatch(/layers ERROR .*candidate hidden_states of layer 2 is non-finite/);
    expect(r.stdout).toContain(`ERROR ${MODEL}/fault-fp16-overflow`);
    expect(r.stdout).toMatch(/ERROR\s+layers\s.*hidden_states of layer 2 is non-finite/);
    expect(reportFilesIn(out)).toEqual([...REPORT_FILES]);
    const run = reportOf(out).runs[0]!;
    expect(run.verdict).toBe("error");
    expect(run.rungs.map((g) => [g.id, g.verdict])).toEqual([
      ["positions", "pass"],
      ["vision", "pass"],
      ["layers", "error"],
      // The seeded step depends on positions only, so it runs, and the overflow reaches it too.
      ["seeded_decode", "error"],
      ["teacher_forced", "skipped"],
      ["greedy", "skipped"],
    ]);
    const layers = run.rungs.find((g) => g.id === "layers")!;
    expect(layers.prompts.length).toBeGreaterThan(0);
    for (const p of layers.prompts) {
      expect(p.verdict).toBe("error");
      expect(p.evidence).toMatchObject({ kind: "error", tensor: "hidden_states", layer: 2 });
    }
    const junit = readText(join(out, "junit.xml"));
    expect(junit).toMatch(/<error message="candidate hidden_states of layer 2 is non-finite[^"]*"/);
    expect(junit).toContain("tensor: hidden_states");
    expect(junit).toContain("layer: 2");
    expect(junit).not.toContain("<failure");
  });
});
