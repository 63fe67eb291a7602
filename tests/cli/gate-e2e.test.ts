/**
 * `numgate gate` end to end: the real CLI in a subprocess, on the repo's embedded qwen3-vl-tiny
 * spec, oracle and ONNX candidates. Every run writes into its own temp --report-dir (never the
 * repo's reports/). All runs start together in beforeAll; each test awaits the ones it needs.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { readReport } from "../../src/report/json.ts";
import type { Report } from "../../src/report/schema.ts";
import {
  LADDER_REL,
  MODEL,
  REPO,
  REPORT_FILES,
  RUNG_IDS,
  SPEC_REL,
  background,
  junitTestcases,
  readSpec,
  readText,
  removeTempDirs,
  reportFilesIn,
  runCli,
  tempDir,
  type CliResult,
} from "../helpers/cli.ts";

interface Gated {
  r: CliResult;
  dir: string;
}

function gate(...args: string[]): Promise<Gated> {
  return background(async () => {
    const dir = join(tempDir("numgate-e2e-"), "reports");
    const r = await runCli(["gate", ...args, "--report-dir", dir]);
    return { r, dir };
  });
}

const spec = readSpec();
const allCandidates = Object.keys(spec.candidates);
/** The ladder's depends_on per rung (plain data, no validation). */
const ladderDeps = new Map(
  (parseYaml(readText(join(REPO, LADDER_REL))) as { rungs: { id: string; depends_on?: string[] }[] }).rungs.map((r) => [r.id, r.depends_on ?? []] as const),
);

let runs: {
  fp32: Promise<Gated>;
  someRungs: Promise<Gated>;
  layersOnly: Promise<Gated>;
  int8: Promise<Gated>;
  unknownModel: Promise<Gated>;
  unknownCandidate: Promise<Gated>;
  shard1: Promise<Gated>;
  shard2: Promise<Gated>;
  fault: Promise<Gated>;
};

beforeAll(() => {
  runs = {
    fp32: gate(),
    someRungs: gate("--rung", "positions,vision", "-r", "layers", "--threads", "2"),
    layersOnly: gate("--rung", "layers"),
    int8: gate("--candidate", "int8"),
    unknownModel: gate("no-such-model"),
    unknownCandidate: gate("-c", "no-such-candidate"),
    shard1: gate("--all-candidates", "--shard", "1/2"),
    shard2: gate("--all-candidates", "--shard", "2/2"),
    fault: gate("-c", "fault-layer-perturbed"),
  };
});

afterAll(() => removeTempDirs());

function report(g: Gated): Report {
  return readReport(join(g.dir, "report.json"));
}

describe("numgate gate (default: qwen3-vl-tiny / fp32)", () => {
  it("exits 0, prints the summary and writes report.json, junit.xml and report.html into --report-dir", async () => {
    const { r, dir } = await runs.fp32;
    expect(r.code, r.transcript).toBe(0);
    expect(r.stdout).toContain(`PASS ${MODEL}/fp32 (${SPEC_REL}`);
    for (const id of RUNG_IDS) expect(r.stdout).toMatch(new RegExp(`^\\s+PASS\\s+${id}\\s`, "m"));
    expect(r.stdout).toContain("numgate: all gates passed — 1 run(s) (1 pass, 0 fail, 0 error); rungs: 6 pass, 0 fail, 0 error, 0 skipped");
    expect(r.stdout).toContain(`reports: ${join(dir, "report.json")}, ${join(dir, "junit.xml")}, ${join(dir, "report.html")}`);
    // Progress goes to stderr, one line per rung.
    expect(r.stderr).toContain(`[1/6] ${MODEL}/fp32 positions PASS`);
    expect(r.stderr).toContain(`[6/6] ${MODEL}/fp32 greedy PASS`);
    expect(reportFilesIn(dir)).toEqual([...REPORT_FILES]);
  });

  it("report.json validates and has one passing run with 6 passing rungs", async () => {
    const g = await runs.fp32;
    const rep = report(g); // throws on any schema violation
    expect(rep.runs).toHaveLength(1);
    const run = rep.runs[0]!;
    expect(run).toMatchObject({ id: `${MODEL}/fp32`, model: MODEL, candidate: "fp32", spec_file: SPEC_REL, verdict: "pass" });
    expect(run.rungs.map((g) => g.id)).toEqual([...RUNG_IDS]);
    expect(run.rungs.map((g) => g.verdict)).toEqual(RUNG_IDS.map(() => "pass"));
    // Every input that decided the verdict is hashed.
    expect(run.files.map((f) => f.role)).toEqual(expect.arrayContaining(["spec", "ladder", "oracle", "candidate"]));
    // What ran it, without a provider note on the defaults (cpu, one thread).
    expect(run.backend).toBe("onnxruntime-node (numgate layout)");
  });

  it("junit.xml and report.html agree: no failures or errors", async () => {
    const { dir } = await runs.fp32;
    const junit = readText(join(dir, "junit.xml"));
    expect(junit).toMatch(/^<\?xml/);
    expect(junit).toContain(`<testsuite name="${MODEL}/fp32"`);
    expect(junit).toMatch(/<testsuites name="numgate" tests="\d+" failures="0" errors="0"/);
    expect(junit).not.toMatch(/<failure|<error/);
    const html = readText(join(dir, "report.html"));
    expect(html).toContain(`${MODEL}/fp32`);
    expect(html).toContain('data-verdict="pass"');
    expect(html).not.toContain('data-verdict="fail"');
  });
});

describe("numgate gate --rung", () => {
  it("--rung positions,vision -r layers runs only those rungs (comma-separated and repeated)", async () => {
    const g = await runs.someRungs;
    expect(g.r.code, g.r.transcript).toBe(0);
    expect(g.r.stderr).toContain(`[1/3] ${MODEL}/fp32 positions PASS`);
    expect(g.r.stderr).toContain(`[2/3] ${MODEL}/fp32 vision PASS`);
    expect(g.r.stderr).toContain(`[3/3] ${MODEL}/fp32 layers PASS`);
    const run = report(g).runs[0]!;
    expect(run.backend).toBe("onnxruntime-node (numgate layout, cpu (threads=2))");
    expect(run.rungs.map((x) => x.id)).toEqual(["positions", "vision", "layers"]);
    // Dependencies that are in the run are kept: layers still points at positions and vision.
    expect(ladderDeps.get("layers")).toEqual(["positions", "vision"]);
    expect(run.rungs.map((x) => [x.id, x.depends_on])).toEqual([
      ["positions", ladderDeps.get("positions")],
      ["vision", ladderDeps.get("vision")],
      ["layers", ["positions", "vision"]],
    ]);
  });

  it("--rung layers runs only that rung (exit 0, one passing rung in the report)", async () => {
    const g = await runs.layersOnly;
    expect(g.r.stderr).toContain(`[1/1] ${MODEL}/fp32 layers PASS`);
    expect(g.r.stderr).not.toMatch(/ (positions|vision|teacher_forced|greedy) (PASS|FAIL|ERROR)/);
    expect(g.r.code, g.r.transcript).toBe(0);
    expect(g.r.stdout).toContain(`PASS ${MODEL}/fp32 (${SPEC_REL}`);
    expect(reportFilesIn(g.dir)).toEqual([...REPORT_FILES]);
    const run = report(g).runs[0]!;
    expect(run.verdict).toBe("pass");
    expect(run.rungs.map((x) => [x.id, x.verdict])).toEqual([["layers", "pass"]]);
  });

  it("--rung layers keeps only the dependencies that are in the run (none), so report.json validates", async () => {
    const g = await runs.layersOnly;
    // In the ladder, layers depends on positions and vision; neither ran.
    expect(ladderDeps.get("layers")).toEqual(["positions", "vision"]);
    const run = report(g).runs[0]!; // readReport() validates the cross-references
    expect(run.rungs[0]?.depends_on).toEqual([]);
    const junit = readText(join(g.dir, "junit.xml"));
    expect(junit).toMatch(/<testsuites name="numgate" tests="\d+" failures="0" errors="0"/);
    expect(junit).toContain('name="layers [');
    expect(junit).not.toMatch(/name="(positions|vision|teacher_forced|greedy)[ "]/);
  });
});

describe("numgate gate --candidate int8", () => {
  it("passes against its own thresholds from the spec", async () => {
    const g = await runs.int8;
    expect(g.r.code, g.r.transcript).toBe(0);
    expect(g.r.stdout).toContain(`PASS ${MODEL}/int8`);
    const run = report(g).runs[0]!;
    expect(run).toMatchObject({ id: `${MODEL}/int8`, candidate: "int8", verdict: "pass" });
    expect(run.rungs.map((x) => x.verdict)).toEqual(RUNG_IDS.map(() => "pass"));
    const own = spec.candidates["int8"]?.thresholds?.["layers"];
    expect(own).toBeDefined();
    // The layers rung was held to the int8 override, not the ladder default (0.99999 / 0.9999).
    expect(run.rungs.find((x) => x.id === "layers")?.thresholds).toEqual(own);
    expect(run.files.some((f) => f.path.endsWith("decoder-int8.onnx") && f.role === "candidate")).toBe(true);
  });
});

describe("numgate gate: unknown names", () => {
  it("an unknown model exits non-zero and lists the known models; nothing is run or written", async () => {
    const { r, dir } = await runs.unknownModel;
    expect(r.code, r.transcript).toBe(2);
    expect(r.stderr).toContain('numgate: unknown_model: unknown model "no-such-model"; known models (gates/*.yaml):');
    expect(r.stderr).toContain(MODEL);
    expect(r.stdout).toBe("");
    // The model is rejected before any run: no report directory at all (current behaviour).
    expect(reportFilesIn(dir)).toEqual([]);
  });

  it("an unknown candidate exits non-zero, lists the spec's candidates, and still writes the reports", async () => {
    const g = await runs.unknownCandidate;
    expect(g.r.code, g.r.transcript).toBe(1);
    const message = `no candidate "no-such-candidate" in ${SPEC_REL} (candidates: ${allCandidates.join(", ")}), and it is not a path to a candidate .json`;
    expect(g.r.stderr).toContain(`numgate: ${MODEL}/no-such-candidate: schema_violation: ${SPEC_REL}: candidates: ${message}\n`);
    expect(reportFilesIn(g.dir)).toEqual([...REPORT_FILES]);
    const run = report(g).runs[0]!;
    expect(run).toMatchObject({ id: `${MODEL}/no-such-candidate`, verdict: "error" });
    // The run carries the setup error itself; every rung of the ladder repeats it.
    expect(run.error).toEqual({ code: "schema_violation", message: `${SPEC_REL}: candidates: ${message}`, file: SPEC_REL, field: "candidates" });
    expect(run.rungs.map((x) => x.id)).toEqual([...RUNG_IDS]);
    for (const x of run.rungs) expect(x.error, x.id).toEqual(run.error);
    const setup = junitTestcases(readText(join(g.dir, "junit.xml")), "setup");
    expect(setup).toHaveLength(1);
    expect(setup[0]).toMatchObject({ classname: `numgate.${MODEL}.no-such-candidate`, problem: { element: "error", type: "schema_violation", message: run.error!.message } });
    expect(setup[0]!.problem?.body).toContain(`file: ${SPEC_REL}\nfield: candidates\nspec: ${SPEC_REL}`);
  });
});

describe("numgate gate --all-candidates --shard i/n", () => {
  it("shards 1/2 and 2/2 split the candidates: no overlap, union = every candidate of the spec", async () => {
    const [s1, s2] = await Promise.all([runs.shard1, runs.shard2]);
    const ids1 = report(s1).runs.map((r) => r.id);
    const ids2 = report(s2).runs.map((r) => r.id);
    expect(ids1.length).toBeGreaterThan(0);
    expect(ids2.length).toBeGreaterThan(0);
    expect(ids1.filter((id) => ids2.includes(id))).toEqual([]);
    expect([...ids1, ...ids2].sort()).toEqual(allCandidates.map((c) => `${MODEL}/${c}`).sort());
    // The shards are balanced (round-robin) and each prints its own reports line.
    expect(Math.abs(ids1.length - ids2.length)).toBeLessThanOrEqual(1);
    for (const s of [s1, s2]) expect(s.r.stdout).toContain(`reports: ${join(s.dir, "report.json")}`);
  });

  it("every planted fault fails or errs, every healthy build passes, and a shard with a fault exits non-zero", async () => {
    const [s1, s2] = await Promise.all([runs.shard1, runs.shard2]);
    for (const s of [s1, s2]) {
      const verdicts = report(s).runs.map((r) => [r.candidate, r.verdict] as const);
      for (const [candidate, verdict] of verdicts) {
        const expected = spec.candidates[candidate]?.expect ?? "pass";
        if (expected === "fail") expect(verdict, candidate).not.toBe("pass");
        else expect(verdict, candidate).toBe("pass");
      }
      // An error a fault provokes names what broke (backend_failed, non_finite, ...); an internal
      // error is numgate's own bug, never a caught fault.
      for (const run of report(s).runs) expect(JSON.stringify(run), run.candidate).not.toContain('"code":"internal"');
      const anyFault = verdicts.some(([c]) => spec.candidates[c]?.expect === "fail");
      expect(s.r.code === 0, s.r.transcript).toBe(!anyFault);
    }
  });
});

describe("numgate gate -c fault-layer-perturbed (a planted fault)", () => {
  it("exits non-zero and names layer 3 on the console, in report.json and in report.html", async () => {
    const g = await runs.fault;
    expect(g.r.code, g.r.transcript).toBe(1);
    expect(g.r.stdout).toContain(`FAIL ${MODEL}/fault-layer-perturbed`);
    expect(g.r.stdout).toMatch(/FAIL\s+layers\s.*first divergent layer 3/);
    expect(g.r.stdout).toContain("numgate: gates FAILED");
    expect(reportFilesIn(g.dir)).toEqual([...REPORT_FILES]);
    const run = report(g).runs[0]!;
    expect(run.verdict).toBe("fail");
    const layers = run.rungs.find((x) => x.id === "layers")!;
    expect(layers.verdict).toBe("fail");
    expect(layers.message).toContain("layer 3");
    for (const p of layers.prompts) {
      expect(p.evidence.kind).toBe("layers");
      if (p.evidence.kind === "layers") expect(p.evidence.first_failing?.layer).toBe(3);
    }
    // Dependants are skipped, not run.
    expect(run.rungs.filter((x) => x.depends_on.includes("layers")).map((x) => x.verdict)).toEqual(["skipped", "skipped"]);
    const html = readText(join(g.dir, "report.html"));
    expect(html).toContain("layer 3");
    expect(html).toContain('data-rung="layers"');
    expect(readText(join(g.dir, "junit.xml"))).toMatch(/<failure[^>]*first divergent layer 3/);
  });
});
