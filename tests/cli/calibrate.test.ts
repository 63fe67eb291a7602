/**
 * `numgate calibrate` through the real CLI, on temp copies of the project (gates/, ladders/, the
 * oracle, and the int8 / fault-int8-clipped-head candidate files): it measures the reference's
 * noise floor, writes thresholds under candidates.<name>.thresholds with a provenance comment,
 * and the written spec still gates. --dry-run and a refused reference write nothing.
 *
 * The repo's spec already carries int8 thresholds written by calibrate, so the writing run first
 * removes that block from its temp copy: calibrate then has to write all of it again.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { readReport } from "../../src/report/json.ts";
import type { Report } from "../../src/report/schema.ts";
import {
  INT8_FILES,
  editFile,
  MODEL,
  REPORT_FILES,
  SPEC_REL,
  background,
  makeTempRoot,
  readSpec,
  readText,
  removeTempDirs,
  reportFilesIn,
  runCli,
  type CliResult,
  type SpecShape,
  type TempRoot,
  withoutThresholds,
} from "../helpers/cli.ts";

const FILES = [...INT8_FILES, "fault-int8-clipped-head.json", "decoder-int8-clipped-head.onnx"];

interface Calibrated {
  root: TempRoot;
  /** The temp spec as calibrate found it. */
  before: string;
  r: CliResult;
  /** The UTC dates (YYYY-MM-DD) before and after the run: the comment carries one of them. */
  dates: string[];
}

const today = (): string => new Date().toISOString().slice(0, 10);

/** `numgate calibrate qwen3-vl-tiny <args>` in a fresh temp root, after `prepare` edits its spec. */
function calibrate(args: string[], prepare?: (spec: string) => string): Promise<Calibrated> {
  return background(async () => {
    const root = makeTempRoot(FILES);
    if (prepare !== undefined) editFile(root.spec, prepare);
    const before = readText(root.spec);
    const start = today();
    const r = await runCli(["calibrate", MODEL, ...args], { cwd: root.dir, root: root.dir });
    return { root, before, r, dates: [...new Set([start, today()])] };
  });
}

/** The provenance comment calibrate writes (floor values as it formats them: 8 significant digits). */
function provenance(date: string, reference: string, floor: Record<string, number>, headroom = 10): string {
  const measured = Object.entries(floor)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(8)}`)
    .join(", ");
  return `# calibrated ${date} by numgate calibrate --reference ${reference} (headroom ${headroom}x): measured ${measured}`;
}

/** `layers: min_cos 0.9999, min_cos_worst_row 0.999   (floor cos 0.99999104..., cos_worst_row ...)` */
function printed(stdout: string): Map<string, { thresholds: Record<string, number>; floor: Record<string, number> }> {
  const out = new Map<string, { thresholds: Record<string, number>; floor: Record<string, number> }>();
  const pairs = (s: string): Record<string, number> =>
    Object.fromEntries(
      s.split(",").map((kv) => {
        const [k, v] = kv.trim().split(/\s+/);
        return [k ?? "", Number(v)];
      }),
    );
  for (const m of stdout.matchAll(/^(\w+): (.+?)\s+\(floor (.+)\)$/gm)) {
    out.set(m[1]!, { thresholds: pairs(m[2]!), floor: pairs(m[3]!) });
  }
  return out;
}

let runs: {
  write: Promise<Calibrated>;
  /** `gate -c int8` on the spec `write` produced. */
  gateAfter: Promise<{ r: CliResult; out: string }>;
  dryRun: Promise<Calibrated>;
  fault: Promise<Calibrated>;
};

beforeAll(() => {
  const write = calibrate(["--reference", "int8"], (t) => withoutThresholds(t, "int8"));
  runs = {
    write,
    gateAfter: background(async () => {
      const { root } = await write;
      const r = await runCli(["gate", "-c", "int8", "--report-dir", root.out], { cwd: root.dir, root: root.dir });
      return { r, out: root.out };
    }),
    dryRun: calibrate(["--reference", "int8", "--dry-run"]),
    fault: calibrate(["--reference", "fault-int8-clipped-head"]),
  };
});

afterAll(() => removeTempDirs());

describe("numgate calibrate qwen3-vl-tiny --reference int8", () => {
  it("exits 0, prints every rung's thresholds and floor, and says where it wrote them", async () => {
    const { root, r } = await runs.write;
    expect(r.code, r.transcript).toBe(0);
    const p = printed(r.stdout);
    expect([...p.keys()]).toEqual(["vision", "layers", "seeded_decode", "teacher_forced", "greedy"]);
    expect(r.stdout).toContain(`wrote thresholds for int8 into ${root.spec}`);
  });

  it("writes them as block maps under candidates.int8.thresholds, each opening with a '# calibrated ... --reference int8 (headroom 10x): measured ...' comment, and nothing else changes", async () => {
    const { root, before, r, dates } = await runs.write;
    // The temp spec started without int8 thresholds (the repo's were removed).
    expect((parseYaml(before) as SpecShape).candidates["int8"]).toBeDefined();
    expect((parseYaml(before) as SpecShape).candidates["int8"]?.thresholds).toBeUndefined();
    const text = readText(root.spec);
    expect(text).not.toBe(before);
    const after = parseYaml(text) as SpecShape;
    const written = after.candidates["int8"]?.thresholds ?? {};
    const p = printed(r.stdout);
    expect(Object.keys(written)).toEqual([...p.keys()]);
    for (const [rung, { thresholds }] of p) expect(written[rung], rung).toEqual(thresholds);
    // One provenance comment per calibrated rung, with the --reference, the headroom and the floor.
    const comments = text.match(/^ *# calibrated \d{4}-\d{2}-\d{2} by numgate calibrate --reference int8 \(headroom 10x\): measured .+$/gm) ?? [];
    expect(comments).toHaveLength(p.size);
    expect(text).toMatch(/# calibrated \d{4}-\d{2}-\d{2} by numgate calibrate --reference int8 \(headroom 10x\): measured cos 0\.9\d+, cos_worst_row 0\.9\d+$/m);
    // Each comment is the first line inside its rung's (block) map, followed by that rung's keys.
    const block = text.slice(text.indexOf("\n  int8:\n"));
    for (const [rung, { thresholds, floor }] of p) {
      const keys = Object.entries(thresholds).map(([k, v]) => `        ${k}: ${String(v)}\n`);
      const expected = dates.map((d) => `\n      ${rung}:\n        ${provenance(d, "int8", floor)}\n${keys.join("")}`);
      expect(expected.some((e) => block.includes(e)), `${rung}: one of\n${expected.join("\n")}\n--- in\n${block}`).toBe(true);
    }
    // Textually, only candidates.int8.thresholds moved: the rest (comments, notes, quoting) is kept.
    expect(withoutThresholds(text, "int8")).toBe(before);
    // Semantically too.
    const original = parseYaml(before) as SpecShape;
    const strip = (s: SpecShape) => ({ ...s, candidates: { ...s.candidates, int8: { ...s.candidates["int8"], thresholds: undefined } } });
    expect(strip(after)).toEqual(strip(original));
  });

  it("the thresholds sit below the measured floor (headroom), on the side a fault would cross", async () => {
    const { r } = await runs.write;
    const p = printed(r.stdout);
    const layers = p.get("layers")!;
    expect(layers.thresholds["min_cos"]).toBeLessThan(layers.floor["cos"]!);
    expect(layers.thresholds["min_cos_worst_row"]).toBeLessThan(layers.floor["cos_worst_row"]!);
    const vision = p.get("vision")!;
    expect(vision.thresholds["min_cos"]).toBeLessThan(vision.floor["cos"]!);
    expect(vision.thresholds["min_cos_worst_row"]).toBeLessThan(vision.floor["cos_worst_row"]!);
    const tf = p.get("teacher_forced")!;
    expect(tf.thresholds["max_kl"]).toBeGreaterThan(tf.floor["max_kl"]!);
    expect(tf.thresholds["min_matches"]).toBe(tf.floor["matches"]);
    expect(p.get("greedy")!.thresholds["min_matches"]).toBe(p.get("greedy")!.floor["matches"]);
  });

  it("the written spec still loads: `gate -c int8` on it exits 0 and uses the calibrated thresholds", async () => {
    const { r: cal } = await runs.write;
    const { r, out } = await runs.gateAfter;
    expect(r.code, r.transcript).toBe(0);
    expect(reportFilesIn(out)).toEqual([...REPORT_FILES]);
    const report: Report = readReport(join(out, "report.json"));
    expect(r.stdout).toContain(`PASS ${MODEL}/int8 (${SPEC_REL}`);
    const run = report.runs[0]!;
    expect(run.verdict).toBe("pass");
    for (const [rung, { thresholds }] of printed(cal.stdout)) {
      expect(run.rungs.find((g) => g.id === rung)?.thresholds, rung).toMatchObject(thresholds);
    }
    // Cross-check against a second, independent measurement: every layer of every prompt of int8
    // stays above the calibrated min_cos.
    const minCos = Math.min(
      ...run.rungs
        .filter((g) => g.id === "layers")
        .flatMap((g) => g.prompts)
        .flatMap((p) => (p.evidence.kind === "layers" ? p.evidence.layers.map((l) => l.cos ?? -1) : [])),
    );
    const written = printed(cal.stdout).get("layers")!.thresholds["min_cos"]!;
    expect(minCos).toBeGreaterThan(written);
    expect(minCos).toBeLessThan(1);
  });
});

describe("numgate calibrate: nothing written", () => {
  it("--dry-run prints the same thresholds and leaves the spec byte-identical", async () => {
    const [{ root, before, r }, { r: wrote }] = await Promise.all([runs.dryRun, runs.write]);
    expect(r.code, r.transcript).toBe(0);
    expect(readText(root.spec)).toBe(before);
    expect(r.stdout).not.toContain("wrote thresholds");
    const dry = printed(r.stdout);
    expect([...dry.keys()]).toEqual(["vision", "layers", "seeded_decode", "teacher_forced", "greedy"]);
    // Same inputs, same deterministic thresholds as the writing run.
    for (const [rung, v] of printed(wrote.stdout)) expect(dry.get(rung)?.thresholds, rung).toEqual(v.thresholds);
  });

  it("--reference fault-int8-clipped-head is refused (it flips a teacher-forced step) and the spec is untouched", async () => {
    const { root, before, r } = await runs.fault;
    expect(r.code, r.transcript).toBe(2);
    expect(r.stderr).toMatch(/^numgate: candidate_invalid: the reference fault-int8-clipped-head flips \d+ teacher-forced step\(s\); a healthy reference must match every step$/m);
    expect(r.stdout).not.toContain("wrote thresholds");
    expect(readText(root.spec)).toBe(before);
    // The repo's spec lists it as a planted fault.
    expect(readSpec().candidates["fault-int8-clipped-head"]?.expect).toBe("fail");
  });
});
