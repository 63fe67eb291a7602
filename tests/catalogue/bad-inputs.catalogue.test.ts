/**
 * The bad-input catalogue: one row per way an input to `numgate gate` can be wrong, read as a
 * table (CASES below). Each row breaks one thing in a throw-away project root (gates/, ladders/,
 * the tiny oracle and the fp32 candidate files; tests/helpers/cli.ts makeTempRoot) and asserts:
 *
 *   - the error code (NumgateError.code; "usage" for a command-line error Commander rejects, and
 *     "interrupted" for a signal, which have no NumgateError),
 *   - the file and field the error names,
 *   - the exit code,
 *   - the report directory: a complete, valid set (all three files, report.json validates, one
 *     run id in all three: consistentRunId), or, for errors that stop numgate before any run,
 *     the previous set untouched (the directory is seeded with one before the run).
 *
 * How a row runs: "gate" rows call the gate command in-process (gateCommand: runGate + the report
 * writer, quiet), mapping a thrown NumgateError to exit 2 as src/cli/main.ts does; "cli" rows
 * spawn the real CLI (dying engines, usage errors, signals), started together in beforeAll. Rows
 * use the cheapest rung that reaches the fault (-r positions where nothing else is needed).
 *
 * Also in tests/cli/bad-inputs.test.ts (the same faults through the CLI, with the console output),
 * tests/cli/usage.test.ts (every usage message), tests/cli/kill.test.ts (20 random kills) and
 * tests/oracle/oracle-validation.test.ts.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GateCommandOptions } from "../../src/cli/gate-command.ts";
import { gateCommand } from "../../src/cli/gate-run.ts";
import { isNumgateError } from "../../src/errors/numgate-error.ts";
import { readReport } from "../../src/report/json.ts";
import { consistentRunId, writeReports } from "../../src/report/write.ts";
import type { Report } from "../../src/report/schema.ts";
import { readSafetensorsSync, writeSafetensorsSync } from "../../src/tensor/safetensors.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import {
  CANDIDATES_REL,
  FP32_FILES,
  MANIFEST_REL,
  PROMPTS_REL,
  REPO,
  REPORT_FILES,
  SOURCES_CLI,
  SPEC_REL,
  background,
  editFile,
  makeTempRoot,
  removeTempDirs,
  replaceAfter,
  replaceOnce,
  reportFilesIn,
  runCli,
  tempDir,
  type TempRoot,
} from "../helpers/cli.ts";

type Category = "dumps" | "oracle manifests" | "gate specs" | "candidate manifests" | "graphs" | "engines" | "report directories" | "command line" | "interruptions";

interface Expected {
  /** NumgateError code; "usage" / "interrupted" where no NumgateError exists (see the header). */
  code: string;
  /** The file the error names (a suffix of its path). */
  file?: RegExp;
  field?: string | RegExp;
  /** A fragment of the message. */
  message?: RegExp;
  exit: number;
  /** "complete": a new, valid, consistent set. "untouched": the seeded previous set is still there, byte for byte. */
  reports: "complete" | "untouched";
}

interface Case {
  id: string;
  category: Category;
  /** What is broken, in words. */
  broken: string;
  /** How the test breaks it (the root is a copy; `candidateFiles` picks which candidate files it holds). */
  breakIt?: (root: TempRoot) => void;
  candidateFiles?: readonly string[];
  /** In-process gate command (models, options), or the real CLI (args; --report-dir is added). */
  via: { gate: GateCommandOptions & { models?: string[] } } | { cli: string[]; signal?: { sig: NodeJS.Signals; when: "gating" | "writing" } };
  expect: Expected;
}

// ---------------------------------------------------------------------------------------------
// Ways to break things

const dump = (name: string) => `${PROMPTS_REL}/${name}.safetensors`;
const cand = (file: string) => `${CANDIDATES_REL}/${file}`;
const esc = (s: string) => new RegExp(`${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
const POSITIONS = { rung: ["positions"] };

function rewriteDump(root: TempRoot, prompt: string, edit: (tensors: Record<string, Tensor>) => void): void {
  const path = root.path(dump(prompt));
  const st = readSafetensorsSync(path);
  const tensors: Record<string, Tensor> = {};
  for (const n of st.names()) {
    const t = st.get(n);
    tensors[n] = Tensor.from(t.dtype, t.shape, t.data.slice() as never);
  }
  edit(tensors);
  writeSafetensorsSync(path, tensors, { ...st.metadata });
}
const f32 = (t: Tensor | undefined): Float32Array => Float32Array.from(t!.toFloat32());

function editJson(path: string, edit: (m: Record<string, any>) => void): void {
  const m = JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;
  edit(m);
  writeFileSync(path, JSON.stringify(m, null, 2));
}
const editManifest = (edit: (m: Record<string, any>) => void) => (root: TempRoot) => editJson(root.manifest, edit);
const editCandidate = (edit: (m: Record<string, any>) => void) => (root: TempRoot) => editJson(root.path(cand("fp32.json")), edit);
const editSpec = (edit: (t: string) => string) => (root: TempRoot) => void editFile(root.spec, edit);
const garbage = Buffer.from("this is not what it should be \u0000\u0001\u0002 garbage bytes ".repeat(64));

const INT8_LAYERS = ["\n  int8:\n", "\n    thresholds:\n", "\n      layers:\n"] as const;

/** A candidate manifest in the root whose engine is `command` (node scripts by absolute path). */
function engineCandidate(root: TempRoot, name: string, command: string[], timeoutS = 30): void {
  const m = JSON.parse(readFileSync(join(REPO, cand("engine-fp32.json")), "utf8")) as Record<string, any>;
  delete m["files"];
  m["name"] = name;
  m["engine"] = { command, timeout_s: timeoutS };
  writeFileSync(root.path(cand(`${name}.json`)), JSON.stringify(m, null, 2));
}
const DYING = join(REPO, "tests/fixtures/engines/dying-engine.mjs");
const BROKEN = join(REPO, "tests/fixtures/engines/broken-engine.mjs");
const dying = (how: string, at = 3, timeoutS = 30) => (root: TempRoot) => engineCandidate(root, `dying-${how}`, ["node", DYING, "--die", how, "--at", String(at)], timeoutS);
const broken = (bug: string) => (root: TempRoot) => engineCandidate(root, `broken-${bug}`, ["node", BROKEN, "--bug", bug], 10);
/** The dying candidate first, then the healthy fp32 one: the second must still run. */
const dyingArgs = (how: string) => ["gate", "-c", cand(`dying-${how}.json`), "-c", "fp32", "-r", "vision", "--keep-going"];

// ---------------------------------------------------------------------------------------------
// The catalogue

export const CASES: Case[] = [
  // --- oracle dumps (oracles/<model>/prompts/*.safetensors)
  { id: "dump.missing", category: "dumps", broken: "a prompt's dump is missing", breakIt: (r) => rmSync(r.path(dump("text-count"))), via: { gate: POSITIONS }, expect: { code: "file_not_found", file: esc(MANIFEST_REL), field: "prompts.text-count.file", exit: 1, reports: "complete" } },
  { id: "dump.truncated", category: "dumps", broken: "a dump cut in half", breakIt: (r) => truncateSync(r.path(dump("mm-colours-a")), 40_000), via: { gate: POSITIONS }, expect: { code: "safetensors_invalid", file: esc(dump("mm-colours-a")), message: /truncated/, exit: 1, reports: "complete" } },
  { id: "dump.empty", category: "dumps", broken: "a zero-byte dump", breakIt: (r) => writeFileSync(r.path(dump("mm-colours-a")), ""), via: { gate: POSITIONS }, expect: { code: "safetensors_invalid", file: esc(dump("mm-colours-a")), exit: 1, reports: "complete" } },
  {
    id: "dump.header-length",
    category: "dumps",
    broken: "a header length of 2^60 bytes",
    breakIt: (r) => {
      const b = readFileSync(r.path(dump("mm-colours-a")));
      b.writeBigUInt64LE(2n ** 60n, 0);
      writeFileSync(r.path(dump("mm-colours-a")), b);
    },
    via: { gate: POSITIONS },
    expect: { code: "safetensors_invalid", file: esc(dump("mm-colours-a")), exit: 1, reports: "complete" },
  },
  {
    id: "dump.header-not-json",
    category: "dumps",
    broken: "a header that is not JSON",
    breakIt: (r) => {
      const b = readFileSync(r.path(dump("mm-colours-a")));
      b.fill(0x7b, 8, 20); // "{{{{..." inside the header
      writeFileSync(r.path(dump("mm-colours-a")), b);
    },
    via: { gate: POSITIONS },
    expect: { code: "safetensors_invalid", file: esc(dump("mm-colours-a")), exit: 1, reports: "complete" },
  },
  {
    id: "dump.directory",
    category: "dumps",
    broken: "a directory where a dump should be",
    breakIt: (r) => {
      rmSync(r.path(dump("mm-colours-a")));
      mkdirSync(r.path(dump("mm-colours-a")));
    },
    via: { gate: POSITIONS },
    expect: { code: "file_unreadable", file: esc(dump("mm-colours-a")), exit: 1, reports: "complete" },
  },
  { id: "dump.nan-logits", category: "dumps", broken: "NaN in the oracle's teacher-forced logits", breakIt: (r) => rewriteDump(r, "text-count", (t) => { const v = f32(t["teacher.logits"]); v[7] = NaN; t["teacher.logits"] = Tensor.from("f32", t["teacher.logits"]!.shape, v); }), via: { gate: { rung: ["teacher_forced"] } }, expect: { code: "oracle_invalid", file: esc(dump("text-count")), field: "teacher.logits", message: /non-finite \(NaN\)/, exit: 1, reports: "complete" } },
  { id: "dump.zero-hidden", category: "dumps", broken: "an all-zero hidden state in the oracle", breakIt: (r) => rewriteDump(r, "text-count", (t) => { t["decoder.hidden.2"] = Tensor.from("f32", t["decoder.hidden.2"]!.shape, new Float32Array(f32(t["decoder.hidden.2"]).length)); }), via: { gate: { rung: ["layers"] } }, expect: { code: "oracle_invalid", file: esc(dump("text-count")), field: "decoder.hidden.2", message: /all zeros/, exit: 1, reports: "complete" } },
  { id: "dump.inf-vision", category: "dumps", broken: "Infinity in the oracle's vision embeddings", breakIt: (r) => rewriteDump(r, "mm-colours-a", (t) => { const v = f32(t["vision.embeds"]); v[3] = Infinity; t["vision.embeds"] = Tensor.from("f32", t["vision.embeds"]!.shape, v); }), via: { gate: { rung: ["vision"] } }, expect: { code: "oracle_invalid", file: esc(dump("mm-colours-a")), field: "vision.embeds", exit: 1, reports: "complete" } },
  { id: "dump.tensor-missing", category: "dumps", broken: "a dump without one layer's hidden state", breakIt: (r) => rewriteDump(r, "text-count", (t) => void delete t["decoder.hidden.3"]), via: { gate: { rung: ["layers"] } }, expect: { code: "oracle_invalid", file: esc(MANIFEST_REL), field: "text.num_layers", message: /text-count\.safetensors disagrees with .*the manifest says 6 layers but the dump has no decoder\.hidden\.3/, exit: 1, reports: "complete" } },
  { id: "dump.hidden-width", category: "dumps", broken: "an oracle hidden state narrower than the manifest's hidden_size", breakIt: (r) => rewriteDump(r, "text-count", (t) => { const v = f32(t["decoder.hidden.1"]); t["decoder.hidden.1"] = Tensor.from("f32", [v.length / 32, 32], v); }), via: { gate: { rung: ["layers"] } }, expect: { code: "oracle_invalid", file: esc(MANIFEST_REL), field: "text.hidden_size", message: /text-count\.safetensors disagrees .*tensor decoder\.hidden\.1 is \[8, 32\], the manifest implies \[4, 64\]/, exit: 1, reports: "complete" } },
  { id: "dump.swapped", category: "dumps", broken: "two prompts' dumps swapped", breakIt: editManifest((m) => { const [a, b] = [m["prompts"][0], m["prompts"][1]]; [a.file, b.file] = [b.file, a.file]; }), via: { gate: POSITIONS }, expect: { code: "oracle_invalid", file: /prompts\/mm-colours-[ab]\.safetensors$/, message: /does not belong to prompt/, exit: 1, reports: "complete" } },
  {
    id: "dump.symlink-outside",
    category: "dumps",
    broken: "a dump that is a symbolic link out of the oracle folder",
    breakIt: (r) => {
      const outside = join(tempDir("numgate-outside-"), "x.safetensors");
      writeFileSync(outside, readFileSync(r.path(dump("text-count"))));
      rmSync(r.path(dump("text-count")));
      symlinkSync(outside, r.path(dump("text-count")));
    },
    via: { gate: POSITIONS },
    expect: { code: "path_outside", file: esc(MANIFEST_REL), field: /^prompts\[\d\]\.file$/, exit: 1, reports: "complete" },
  },
  { id: "dump.token-dtype", category: "dumps", broken: "greedy tokens stored as f32 instead of i64", breakIt: (r) => rewriteDump(r, "text-count", (t) => { t["greedy.tokens"] = Tensor.from("f32", t["greedy.tokens"]!.shape, Float32Array.from(t["greedy.tokens"]!.toNumbers())); }), via: { gate: { rung: ["greedy"] } }, expect: { code: "dtype_unsupported", file: esc(dump("text-count")), field: "greedy.tokens", message: /needs an integer or bool tensor, got f32\[24\]/, exit: 1, reports: "complete" } },

  // --- the oracle's manifest.json
  { id: "oracle.missing", category: "oracle manifests", broken: "no manifest.json (oracle not recorded)", breakIt: (r) => rmSync(r.manifest), via: { gate: POSITIONS }, expect: { code: "oracle_not_recorded", file: esc(SPEC_REL), field: "oracle", message: /record\.py/, exit: 1, reports: "complete" } },
  { id: "oracle.invalid-json", category: "oracle manifests", broken: "manifest.json is not JSON", breakIt: (r) => writeFileSync(r.manifest, '{"format": "numgate.oracle",'), via: { gate: POSITIONS }, expect: { code: "invalid_json", file: esc(MANIFEST_REL), exit: 1, reports: "complete" } },
  { id: "oracle.empty", category: "oracle manifests", broken: "manifest.json is empty", breakIt: (r) => writeFileSync(r.manifest, ""), via: { gate: POSITIONS }, expect: { code: "invalid_json", file: esc(MANIFEST_REL), exit: 1, reports: "complete" } },
  { id: "oracle.field-type", category: "oracle manifests", broken: "text.num_layers is a string", breakIt: editManifest((m) => (m["text"].num_layers = "six")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(MANIFEST_REL), field: "text.num_layers", exit: 1, reports: "complete" } },
  { id: "oracle.num-layers", category: "oracle manifests", broken: "text.num_layers one too many", breakIt: editManifest((m) => (m["text"].num_layers = 7)), via: { gate: { rung: ["layers"] } }, expect: { code: "oracle_invalid", field: /decoder\.hidden\.6|text\.num_layers/, message: /text\.num_layers/, exit: 1, reports: "complete" } },
  { id: "oracle.same-dump", category: "oracle manifests", broken: "two prompts name one dump", breakIt: editManifest((m) => (m["prompts"][1].file = m["prompts"][0].file)), via: { gate: POSITIONS }, expect: { code: "oracle_invalid", file: esc(MANIFEST_REL), field: "prompts[1].file", exit: 1, reports: "complete" } },
  { id: "oracle.other-model", category: "oracle manifests", broken: "an oracle recorded for another model", breakIt: editManifest((m) => (m["model"] = "qwen3-vl-4b")), via: { gate: POSITIONS }, expect: { code: "oracle_invalid", file: esc(MANIFEST_REL), field: "model", exit: 1, reports: "complete" } },
  { id: "oracle.prompt-outside", category: "oracle manifests", broken: "a prompt file path out of the oracle folder", breakIt: editManifest((m) => (m["prompts"][0].file = "../../../../etc/passwd")), via: { gate: POSITIONS }, expect: { code: "path_outside", file: esc(MANIFEST_REL), field: "prompts[0].file", exit: 1, reports: "complete" } },
  { id: "oracle.deep-nesting", category: "oracle manifests", broken: "a manifest nested 10,000 levels deep", breakIt: (r) => writeFileSync(r.manifest, `{"x": ${"[".repeat(10_000)}${"]".repeat(10_000)}}`), via: { gate: POSITIONS }, expect: { code: "invalid_json", file: esc(MANIFEST_REL), exit: 1, reports: "complete" } },
  { id: "oracle.version", category: "oracle manifests", broken: "an oracle format version numgate does not know", breakIt: editManifest((m) => (m["version"] = 9)), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(MANIFEST_REL), field: "version", exit: 1, reports: "complete" } },
  { id: "oracle.family", category: "oracle manifests", broken: "an oracle of another family", breakIt: editManifest((m) => (m["family"] = "qwen3.5")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(MANIFEST_REL), field: "family", exit: 1, reports: "complete" } },
  { id: "oracle.missing-field", category: "oracle manifests", broken: "text.hidden_size missing", breakIt: editManifest((m) => void delete m["text"].hidden_size), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(MANIFEST_REL), field: "text.hidden_size", exit: 1, reports: "complete" } },

  // --- gate specs (gates/<model>.yaml, ladders/<family>.yaml)
  { id: "spec.key-typo", category: "gate specs", broken: "`treshold:` for `thresholds:`", breakIt: editSpec((t) => replaceOnce(t, "  fp16:\n    file: oracles/qwen3-vl-tiny/candidates/fp16.json\n    thresholds:", "  fp16:\n    file: oracles/qwen3-vl-tiny/candidates/fp16.json\n    treshold:")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(SPEC_REL), field: "candidates.fp16.treshold", message: /did you mean "thresholds"/, exit: 1, reports: "complete" } },
  { id: "spec.threshold-typo", category: "gate specs", broken: "`min_coss` under a rung's thresholds", breakIt: editSpec((t) => replaceAfter(t, INT8_LAYERS, "\n        min_cos:", "\n        min_coss:")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(SPEC_REL), field: "candidates.int8.thresholds.layers.min_coss", exit: 1, reports: "complete" } },
  { id: "spec.yaml-syntax", category: "gate specs", broken: "a YAML syntax error", breakIt: editSpec((t) => replaceOnce(t, "default_candidate: fp32\n", "default_candidate: fp32: x\n")), via: { gate: POSITIONS }, expect: { code: "invalid_yaml", file: esc(SPEC_REL), exit: 1, reports: "complete" } },
  { id: "spec.unknown-rung", category: "gate specs", broken: "thresholds for a rung the ladder lacks", breakIt: editSpec((t) => replaceAfter(t, INT8_LAYERS.slice(0, 2), "\n      layers:\n", "\n      layerz:\n")), via: { gate: POSITIONS }, expect: { code: "unknown_rung", file: esc(SPEC_REL), field: "candidates.int8.thresholds.layerz", exit: 1, reports: "complete" } },
  { id: "spec.impossible-threshold", category: "gate specs", broken: "min_cos 1.5 (no cosine reaches it)", breakIt: editSpec((t) => replaceAfter(t, INT8_LAYERS, "\n        min_cos: 0.99", "\n        min_cos: 1.5\n        x_: 0.99")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(SPEC_REL), field: /candidates\.int8\.thresholds\.layers\./, exit: 1, reports: "complete" } },
  { id: "spec.default-candidate", category: "gate specs", broken: "default_candidate names no candidate", breakIt: editSpec((t) => replaceOnce(t, "default_candidate: fp32\n", "default_candidate: fp64\n")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(SPEC_REL), field: "default_candidate", exit: 1, reports: "complete" } },
  { id: "spec.ladder-missing", category: "gate specs", broken: "a ladder that does not exist", breakIt: editSpec((t) => replaceOnce(t, "ladder: qwen3-vl\n", "ladder: qwen3-vx\n")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(SPEC_REL), field: "ladder", message: /:6:9: ladder: ladder "qwen3-vx" not found \(looked for .*ladders\/qwen3-vx\.yaml\)/, exit: 1, reports: "complete" } },
  { id: "spec.oracle-outside", category: "gate specs", broken: "an oracle folder out of the project root", breakIt: editSpec((t) => replaceOnce(t, "oracle: oracles/qwen3-vl-tiny\n", "oracle: ../../../../tmp\n")), via: { gate: POSITIONS }, expect: { code: "path_outside", file: esc(SPEC_REL), field: "oracle", exit: 1, reports: "complete" } },
  { id: "spec.default-candidate-prototype", category: "gate specs", broken: "default_candidate: toString (an Object.prototype member, no candidate)", breakIt: editSpec((t) => replaceOnce(t, "default_candidate: fp32\n", "default_candidate: toString\n")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(SPEC_REL), field: "default_candidate", exit: 1, reports: "complete" } },
  { id: "spec.unknown-prompt", category: "gate specs", broken: "prompts: names a prompt the oracle lacks", breakIt: editSpec((t) => replaceOnce(t, "default_candidate: fp32\n", "default_candidate: fp32\nprompts: [text-cuont]\n")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(SPEC_REL), field: "prompts", exit: 1, reports: "complete" } },
  { id: "spec.candidate-file-missing", category: "gate specs", broken: "a candidate file that does not exist", breakIt: (r) => rmSync(r.path(cand("fp32.json"))), via: { gate: POSITIONS }, expect: { code: "file_not_found", file: /fp32\.json$|qwen3-vl-tiny\.yaml$/, exit: 1, reports: "complete" } },
  { id: "spec.duplicate-key", category: "gate specs", broken: "a key given twice", breakIt: editSpec((t) => replaceOnce(t, "default_candidate: fp32\n", "default_candidate: fp32\ndefault_candidate: fp16\n")), via: { gate: POSITIONS }, expect: { code: "invalid_yaml", file: esc(SPEC_REL), exit: 1, reports: "complete" } },
  { id: "spec.empty", category: "gate specs", broken: "an empty spec file", breakIt: (r) => writeFileSync(r.spec, ""), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(SPEC_REL), exit: 1, reports: "complete" } },
  { id: "spec.family", category: "gate specs", broken: "a family numgate does not know", breakIt: editSpec((t) => replaceOnce(t, "family: qwen3-vl\n", "family: llama\n")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(SPEC_REL), field: "family", exit: 1, reports: "complete" } },
  { id: "spec.all-candidates", category: "gate specs", broken: "a spec typo under --all-candidates (loaded before any run)", breakIt: editSpec((t) => replaceAfter(t, INT8_LAYERS, "\n        min_cos:", "\n        min_coss:")), via: { gate: { ...POSITIONS, allCandidates: true } }, expect: { code: "schema_violation", file: esc(SPEC_REL), field: "candidates.int8.thresholds.layers.min_coss", exit: 2, reports: "untouched" } },
  { id: "ladder.yaml-syntax", category: "gate specs", broken: "the ladder file is not YAML", breakIt: (r) => writeFileSync(r.path("ladders/qwen3-vl.yaml"), "rungs: [positions\n"), via: { gate: POSITIONS }, expect: { code: "invalid_yaml", file: /ladders\/qwen3-vl\.yaml$/, exit: 1, reports: "complete" } },
  { id: "ladder.unknown-kind", category: "gate specs", broken: "a ladder rung of a kind numgate does not know", breakIt: (r) => void editFile(r.path("ladders/qwen3-vl.yaml"), (t) => t.replace(/kind: positions/, "kind: positionz")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: /ladders\/qwen3-vl\.yaml$/, exit: 1, reports: "complete" } },

  // --- candidate manifests (oracles/<model>/candidates/*.json or -c path)
  { id: "candidate.invalid-json", category: "candidate manifests", broken: "the candidate .json is not JSON", breakIt: (r) => writeFileSync(r.path(cand("fp32.json")), "{ nope"), via: { gate: POSITIONS }, expect: { code: "invalid_json", file: esc(cand("fp32.json")), exit: 1, reports: "complete" } },
  { id: "candidate.other-model", category: "candidate manifests", broken: "a build of another model", breakIt: editCandidate((m) => (m["model"] = "qwen3-vl-4b")), via: { gate: POSITIONS }, expect: { code: "candidate_invalid", file: esc(cand("fp32.json")), field: "model", exit: 1, reports: "complete" } },
  { id: "candidate.backend", category: "candidate manifests", broken: "a backend numgate does not know", breakIt: editCandidate((m) => (m["backend"] = "tensorflow")), via: { gate: POSITIONS }, expect: { code: "candidate_invalid", file: esc(cand("fp32.json")), field: "backend", exit: 1, reports: "complete" } },
  { id: "candidate.layout", category: "candidate manifests", broken: "a layout numgate does not know", breakIt: editCandidate((m) => (m["layout"] = "keras")), via: { gate: POSITIONS }, expect: { code: "candidate_invalid", file: esc(cand("fp32.json")), field: "layout", exit: 1, reports: "complete" } },
  { id: "candidate.graph-outside", category: "candidate manifests", broken: "a graph path out of the candidate folder", breakIt: editCandidate((m) => (m["files"].decoder = "../../../../etc/passwd")), via: { gate: POSITIONS }, expect: { code: "path_outside", file: esc(cand("fp32.json")), field: "files.decoder", exit: 1, reports: "complete" } },
  { id: "candidate.graph-missing", category: "candidate manifests", broken: "a graph file that does not exist", breakIt: (r) => rmSync(r.path(cand("decoder-fp32.onnx"))), via: { gate: POSITIONS }, expect: { code: "file_not_found", file: esc(cand("fp32.json")), field: "files.decoder", exit: 1, reports: "complete" } },
  { id: "candidate.role-missing", category: "candidate manifests", broken: "no embed graph named", breakIt: editCandidate((m) => void delete m["files"].embed), via: { gate: POSITIONS }, expect: { code: "candidate_invalid", file: esc(cand("fp32.json")), field: "files.embed", exit: 1, reports: "complete" } },
  { id: "candidate.engine-missing", category: "candidate manifests", broken: "backend engine without engine.command", breakIt: editCandidate((m) => (m["backend"] = "engine")), via: { gate: POSITIONS }, expect: { code: "candidate_invalid", file: esc(cand("fp32.json")), field: "engine", exit: 1, reports: "complete" } },
  { id: "candidate.engine-timeout", category: "candidate manifests", broken: "engine.timeout_s negative", breakIt: editCandidate((m) => { m["backend"] = "engine"; m["engine"] = { command: ["node"], timeout_s: -1 }; }), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(cand("fp32.json")), field: "engine.timeout_s", exit: 1, reports: "complete" } },
  { id: "candidate.runtime", category: "candidate manifests", broken: "runtime.positions names no positions source", breakIt: editCandidate((m) => (m["runtime"].positions = "guesswork")), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(cand("fp32.json")), field: "runtime.positions", exit: 1, reports: "complete" } },
  { id: "candidate.vision-grid", category: "candidate manifests", broken: "a fixed-grid vision tower for another image size", breakIt: editCandidate((m) => (m["vision_grid"] = [1, 8, 8])), via: { gate: { rung: ["vision"] } }, expect: { code: "candidate_invalid", field: "vision_grid", message: /exported for grid \(1, 8, 8\)/, exit: 1, reports: "complete" } },
  { id: "candidate.version", category: "candidate manifests", broken: "a candidate format version numgate does not know", breakIt: editCandidate((m) => (m["version"] = 3)), via: { gate: POSITIONS }, expect: { code: "schema_violation", file: esc(cand("fp32.json")), field: "version", exit: 1, reports: "complete" } },

  // --- graphs and the tensors a candidate computes
  { id: "graph.decoder-garbage", category: "graphs", broken: "the decoder .onnx is garbage", breakIt: (r) => writeFileSync(r.path(cand("decoder-fp32.onnx")), garbage), via: { gate: POSITIONS }, expect: { code: "backend_failed", file: esc(cand("decoder-fp32.onnx")), exit: 1, reports: "complete" } },
  { id: "graph.vision-garbage", category: "graphs", broken: "the vision .onnx is garbage", breakIt: (r) => writeFileSync(r.path(cand("vision-fp32.onnx")), garbage), via: { gate: POSITIONS }, expect: { code: "backend_failed", file: esc(cand("vision-fp32.onnx")), exit: 1, reports: "complete" } },
  { id: "graph.embed-empty", category: "graphs", broken: "the embed .onnx is empty", breakIt: (r) => writeFileSync(r.path(cand("embed.onnx")), ""), via: { gate: POSITIONS }, expect: { code: "backend_failed", file: esc(cand("embed.onnx")), exit: 1, reports: "complete" } },
  { id: "graph.decoder-truncated", category: "graphs", broken: "the decoder .onnx cut short", breakIt: (r) => truncateSync(r.path(cand("decoder-fp32.onnx")), 100_000), via: { gate: POSITIONS }, expect: { code: "backend_failed", file: esc(cand("decoder-fp32.onnx")), exit: 1, reports: "complete" } },
  { id: "graph.layer-count", category: "graphs", broken: "a candidate with one decoder layer too few", breakIt: broken("wrong-shape"), via: { gate: { rung: ["layers"], candidate: [cand("broken-wrong-shape.json")] } }, expect: { code: "tensor_shape", file: esc(dump("mm-colours-a")), field: "decoder.hidden.0..5", message: /layer count 5 vs 6, candidate vs oracle\); candidate: .*broken-wrong-shape\.json \(engine/, exit: 1, reports: "complete" } },
  { id: "graph.hidden-width", category: "graphs", broken: "a candidate whose hidden width is one wider than the oracle's", breakIt: broken("wrong-embed"), via: { gate: { rung: ["layers"], candidate: [cand("broken-wrong-embed.json")] } }, expect: { code: "tensor_shape", file: esc(MANIFEST_REL), field: "text.hidden_size", message: /hidden width 65 vs 64, candidate vs oracle/, exit: 1, reports: "complete" } },
  { id: "graph.vision-rows", category: "graphs", broken: "a vision tower with one DeepStack row too many", breakIt: broken("wrong-embed"), via: { gate: { rung: ["vision"], candidate: [cand("broken-wrong-embed.json")] } }, expect: { code: "tensor_shape", file: esc(dump("mm-colours-a")), field: "vision.deepstack.0", message: /image tokens 7 vs 6, candidate vs oracle/, exit: 1, reports: "complete" } },

  // --- engines (external processes; the healthy fp32 candidate runs after each and must pass)
  { id: "engine.exit-at-once", category: "engines", broken: "an engine that exits 0 before hello", breakIt: dying("exit-at-once"), via: { cli: dyingArgs("exit-at-once") }, expect: { code: "backend_failed", file: esc(cand("dying-exit-at-once.json")), field: "engine", message: /exited with code 0 during hello \(request 1\)\nlast engine stderr:\n {2}dying-engine: exiting at once/, exit: 1, reports: "complete" } },
  { id: "engine.exit-after-hello", category: "engines", broken: "an engine that exits right after hello", breakIt: dying("exit-after-hello"), via: { cli: dyingArgs("exit-after-hello") }, expect: { code: "backend_failed", file: esc(cand("dying-exit-after-hello.json")), field: "engine", message: /exited with code 5 during vision \(request 2\)\nlast engine stderr:\n {2}dying-engine: request 2 after hello/, exit: 1, reports: "complete" } },
  { id: "engine.exit-mid-read", category: "engines", broken: "an engine that exits while numgate writes a 147 kB request (EPIPE)", breakIt: dying("exit-mid-read"), via: { cli: dyingArgs("exit-mid-read") }, expect: { code: "backend_failed", file: esc(cand("dying-exit-mid-read.json")), field: "engine", message: /exited with code 6 during vision \(request 2\)\nlast engine stderr:\n {2}dying-engine: request 2 \(vision\) carries 147456 bytes/, exit: 1, reports: "complete" } },
  { id: "engine.close-stdout", category: "engines", broken: "an engine that closes its stdout and keeps running", breakIt: dying("close-stdout"), via: { cli: dyingArgs("close-stdout") }, expect: { code: "backend_failed", file: esc(cand("dying-close-stdout.json")), field: "engine", message: /engine closed its output during vision \(request 3\)\nlast engine stderr:\n {2}dying-engine: request 3: closing stdout/, exit: 1, reports: "complete" } },
  { id: "engine.silent", category: "engines", broken: "an engine that goes silent after 2 requests (engine.timeout_s 1)", breakIt: dying("silent", 3, 1), via: { cli: dyingArgs("silent") }, expect: { code: "backend_failed", file: esc(cand("dying-silent.json")), field: "engine", message: /engine did not answer vision \(request 3\) within 1 s\nlast engine stderr:\n {2}dying-engine: request 3: going silent/, exit: 1, reports: "complete" } },
  { id: "engine.garbage", category: "engines", broken: "an engine that writes garbage mid-stream", breakIt: dying("garbage"), via: { cli: dyingArgs("garbage") }, expect: { code: "backend_failed", file: esc(cand("dying-garbage.json")), field: "engine", message: /answer to vision \(request 3\) is broken: .*header length \d+ is out of range.*\nlast engine stderr:\n {2}dying-engine: request 3: writing garbage/, exit: 1, reports: "complete" } },
  { id: "engine.not-found", category: "engines", broken: "an engine command that does not exist", breakIt: (r) => engineCandidate(r, "no-engine", ["/nonexistent/engine"]), via: { gate: { rung: ["vision"], candidate: [cand("no-engine.json")] } }, expect: { code: "backend_failed", file: esc(cand("no-engine.json")), field: "engine.command", exit: 1, reports: "complete" } },
  { id: "engine.old-protocol", category: "engines", broken: "an engine that speaks numgate-engine/1", breakIt: broken("bad-hello"), via: { gate: { rung: ["vision"], candidate: [cand("broken-bad-hello.json")] } }, expect: { code: "backend_failed", file: esc(cand("broken-bad-hello.json")), field: "engine", message: /numgate-engine\/1/, exit: 1, reports: "complete" } },
  { id: "engine.not-an-engine", category: "engines", broken: "a program that is no engine at all", breakIt: (r) => engineCandidate(r, "cat", ["node", "-e", "process.stdout.write('hello, I am not an engine'.repeat(10))"]), via: { gate: { rung: ["vision"], candidate: [cand("cat.json")] } }, expect: { code: "backend_failed", file: esc(cand("cat.json")), field: "engine", exit: 1, reports: "complete" } },

  // --- report directories
  { id: "reports.dir-is-file", category: "report directories", broken: "--report-dir names a file", breakIt: (r) => writeFileSync(r.out, "not a directory"), via: { gate: POSITIONS }, expect: { code: "file_unreadable", file: /out$/, message: /cannot create directory: it is a file, not a directory; the previous report set is unchanged/, exit: 2, reports: "untouched" } },
  { id: "reports.parent-is-file", category: "report directories", broken: "--report-dir under a file", breakIt: (r) => writeFileSync(join(r.dir, "afile"), ""), via: { gate: { ...POSITIONS, reportDir: "afile/out" } }, expect: { code: "file_unreadable", file: /afile\/out$/, message: /a path component is a file, not a directory \(ENOTDIR\)/, exit: 2, reports: "untouched" } },
  { id: "reports.target-is-dir", category: "report directories", broken: "a directory named junit.xml in the report directory", breakIt: (r) => mkdirSync(join(r.out, "junit.xml"), { recursive: true }), via: { gate: POSITIONS }, expect: { code: "file_unreadable", file: /out\/junit\.xml$/, message: /the previous report set is unchanged/, exit: 2, reports: "untouched" } },

  // --- the command line
  { id: "cli.unknown-model", category: "command line", broken: "a model with no gates/<model>.yaml", via: { gate: { ...POSITIONS, models: ["qwen3-vl-tinny"] } }, expect: { code: "unknown_model", message: /known models \(gates\/\*\.yaml\): .*qwen3-vl-tiny/, exit: 2, reports: "untouched" } },
  { id: "cli.unknown-rung", category: "command line", broken: "-r names a rung the ladder lacks", via: { gate: { rung: ["layerz"] } }, expect: { code: "unknown_rung", field: "--rung", message: /no rung "layerz"/, exit: 1, reports: "complete" } },
  { id: "cli.unknown-candidate", category: "command line", broken: "-c names a candidate the spec lacks", via: { gate: { ...POSITIONS, candidate: ["fp64"] } }, expect: { code: "schema_violation", file: esc(SPEC_REL), message: /fp64/, exit: 1, reports: "complete" } },
  { id: "cli.candidate-prototype", category: "command line", broken: "-c toString (an Object.prototype member, no candidate)", via: { gate: { ...POSITIONS, candidate: ["toString"] } }, expect: { code: "schema_violation", file: esc(SPEC_REL), message: /no candidate "toString"/, exit: 1, reports: "complete" } },
  { id: "cli.candidate-path-missing", category: "command line", broken: "-c names a candidate .json that does not exist", via: { gate: { ...POSITIONS, candidate: ["builds/nope/candidate.json"] } }, expect: { code: "file_not_found", file: /builds\/nope\/candidate\.json$/, field: "--candidate", exit: 1, reports: "complete" } },
  { id: "cli.ep", category: "command line", broken: "--ep names no execution provider", via: { gate: { ...POSITIONS, ep: "tpu" } }, expect: { code: "candidate_invalid", message: /tpu/, exit: 1, reports: "complete" } },
  { id: "cli.unknown-option", category: "command line", broken: "an option numgate does not have", via: { cli: ["gate", "--frobnicate"] }, expect: { code: "usage", message: /^numgate: unknown option '--frobnicate'$/, exit: 2, reports: "untouched" } },
  { id: "cli.shard", category: "command line", broken: "--shard 3/2", via: { cli: ["gate", "--shard", "3/2"] }, expect: { code: "usage", message: /--shard <i\/n>.*3\/2/, exit: 2, reports: "untouched" } },
  { id: "cli.missing-value", category: "command line", broken: "-c without a value", via: { cli: ["gate", "-r", "positions", "-c"] }, expect: { code: "usage", message: /argument missing/, exit: 2, reports: "untouched" } },

  // --- interruptions (the real CLI, signalled)
  { id: "signal.term-gating", category: "interruptions", broken: "SIGTERM while a rung runs", breakIt: dying("silent", 3, 60), via: { cli: dyingArgs("silent"), signal: { sig: "SIGTERM", when: "gating" } }, expect: { code: "interrupted", message: /interrupted \(SIGTERM\) during the gate run; kept the previous report set \(run id [0-9a-f]{16}\)/, exit: 143, reports: "untouched" } },
  { id: "signal.int-gating", category: "interruptions", broken: "SIGINT (Ctrl-C) while a rung runs", breakIt: dying("silent", 3, 60), via: { cli: dyingArgs("silent"), signal: { sig: "SIGINT", when: "gating" } }, expect: { code: "interrupted", message: /interrupted \(SIGINT\) during the gate run; kept the previous report set/, exit: 130, reports: "untouched" } },
  { id: "signal.term-writing", category: "interruptions", broken: "SIGTERM while the reports are staged", via: { cli: ["gate", "-r", "positions"], signal: { sig: "SIGTERM", when: "writing" } }, expect: { code: "interrupted", message: /interrupted \(SIGTERM\) while writing reports; kept the previous report set/, exit: 143, reports: "untouched" } },
];

// ---------------------------------------------------------------------------------------------
// Running a case

interface Outcome {
  exit: number | null;
  /** Everything the run said: the thrown error or stderr, and every error in report.json. */
  errors: { code: string; file?: string | undefined; field?: string | undefined; message: string }[];
  transcript: string;
  out: string;
  /** The seeded previous set: its run id and bytes. */
  before: { runId: string; bytes: Record<string, string> };
}

const seedReport: Report = readReport(join(REPO, "tests/fixtures/report/recorded-report.json"));

function seedPreviousSet(dir: string): Outcome["before"] {
  let exists = true;
  try {
    readdirSync(dir);
  } catch {
    exists = false;
  }
  if (!exists) writeReports(seedReport, dir);
  else {
    try {
      writeReports(seedReport, dir);
    } catch {
      // a broken report directory (a case's own fault): nothing to seed
    }
  }
  return { runId: consistentRunId(dir) ?? "", bytes: readSet(dir) };
}

function readSet(dir: string): Record<string, string> {
  const bytes: Record<string, string> = {};
  for (const f of REPORT_FILES) {
    try {
      bytes[f] = readFileSync(join(dir, f), "utf8");
    } catch {
      // absent
    }
  }
  return bytes;
}

function reportErrors(out: string): Outcome["errors"] {
  let report: Report;
  try {
    report = readReport(join(out, "report.json"));
  } catch {
    return [];
  }
  return report.runs.flatMap((run) => [run.error, ...run.rungs.map((g) => g.error)].filter((e) => e !== undefined));
}

/** Seeds a previous set unless the case's fault is the report directory itself (then it is seeded where possible). */
function prepare(c: Case): { root: TempRoot; before: Outcome["before"]; out: string } {
  const root = makeTempRoot(c.candidateFiles ?? FP32_FILES);
  const reportDir = "gate" in c.via && c.via.gate.reportDir !== undefined ? join(root.dir, c.via.gate.reportDir) : root.out;
  c.breakIt?.(root);
  const before = c.category === "report directories" && c.id !== "reports.target-is-dir" ? { runId: "", bytes: readSet(reportDir) } : seedPreviousSet(reportDir);
  return { root, before, out: reportDir };
}

async function runInProcess(c: Case & { via: { gate: GateCommandOptions & { models?: string[] } } }): Promise<Outcome> {
  const { root, before, out } = prepare(c);
  const { models, ...opts } = c.via.gate;
  // Candidate paths in the table are relative to the case's root (in-process, cwd is the repo).
  if (opts.candidate !== undefined) opts.candidate = opts.candidate.map((x) => (x.endsWith(".json") && x !== "builds/nope/candidate.json" ? root.path(x) : x));
  // gateCommand prints setup errors to stderr; they are kept for the assertion messages instead.
  const said: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string | Uint8Array) => (said.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const r = await gateCommand(root.dir, models ?? [], { quiet: true, ...opts, reportDir: out });
    return { exit: r.exitCode, errors: reportErrors(out), transcript: said.join(""), out, before };
  } catch (e) {
    // src/cli/main.ts: a NumgateError thrown out of a command is printed and exits 2.
    if (!isNumgateError(e)) throw e;
    return { exit: 2, errors: [e.toJSON()], transcript: `numgate: ${e.code}: ${e.message}\n${said.join("")}`, out, before };
  } finally {
    process.stderr.write = write;
  }
}

async function runSubprocess(c: Case & { via: { cli: string[]; signal?: { sig: NodeJS.Signals; when: "gating" | "writing" } } }): Promise<Outcome> {
  const { root, before, out } = prepare(c);
  const [command = "gate", ...rest] = c.via.cli;
  const args = [command, "--report-dir", out, ...rest];
  if (c.via.signal === undefined) {
    const r = await runCli(args, { cwd: root.dir, root: root.dir });
    const usage = r.code === 2 && !/^numgate: \S+: /m.test(r.stderr) ? [{ code: "usage", message: r.stderr.trim() }] : [];
    return { exit: r.code, errors: [...usage, ...reportErrors(out)], transcript: r.transcript, out, before };
  }
  const r = await signalled(args, root, out, c.via.signal.sig, c.via.signal.when);
  return { exit: r.code, errors: [{ code: "interrupted", message: r.stderr }], transcript: r.stderr, out, before };
}

/**
 * Starts the CLI, waits until it is gating (the dying engine has gone silent and says so in its
 * mark file) or writing (a staged file exists), then signals numgate's process.
 */
function signalled(args: string[], root: TempRoot, out: string, sig: NodeJS.Signals, when: "gating" | "writing"): Promise<{ code: number | null; stderr: string }> {
  const mark = root.path("engine-silent.mark");
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", NUMGATE_ROOT: root.dir, DYING_ENGINE_MARK: mark, ...(when === "writing" ? { NUMGATE_TEST_WRITE_DELAY_MS: "3000" } : {}) };
  const cwd = root.dir;
  delete env["GITHUB_ACTIONS"];
  delete env["GITHUB_STEP_SUMMARY"];
  const child = spawn(process.execPath, [...SOURCES_CLI, ...args], { cwd, env, stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  let sent = false;
  const send = () => {
    if (sent) return;
    sent = true;
    child.kill(sig);
  };
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
  const poll = setInterval(() => {
    if (when === "gating" ? existsSync(mark) : readdirSync(out).some((f) => f.endsWith(".tmp"))) send();
  }, 20);
  const killer = setTimeout(() => process.kill(-(child.pid ?? 0), "SIGKILL"), 60_000);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearInterval(poll);
      clearTimeout(killer);
      resolve({ code, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The assertions every case gets

function expectCase(c: Case, o: Outcome): void {
  const ctx = `${c.id}: ${c.broken}\n${o.transcript}\nerrors: ${JSON.stringify(o.errors, null, 1)}`;
  expect(o.exit, ctx).toBe(c.expect.exit);
  const e = o.errors.find((x) => x.code === c.expect.code);
  expect(e, ctx).toBeDefined();
  if (c.expect.file !== undefined) expect(e!.file ?? o.transcript, ctx).toMatch(c.expect.file);
  if (c.expect.field !== undefined) {
    if (typeof c.expect.field === "string") expect(e!.field, ctx).toBe(c.expect.field);
    else expect(e!.field, ctx).toMatch(c.expect.field);
  }
  if (c.expect.message !== undefined) expect(e!.message, ctx).toMatch(c.expect.message);
  if (c.expect.reports === "complete") {
    expect(reportFilesIn(o.out), ctx).toEqual([...REPORT_FILES]);
    const report = readReport(join(o.out, "report.json")); // validates
    expect(report.run_id, ctx).toMatch(/^[0-9a-f]{16}$/);
    expect(consistentRunId(o.out), ctx).toBe(report.run_id);
    expect(report.run_id, ctx).not.toBe(o.before.runId);
  } else {
    expect(readSet(o.out), ctx).toEqual(o.before.bytes);
    if (o.before.runId !== "") expect(consistentRunId(o.out), ctx).toBe(o.before.runId);
  }
  // A stopped writer leaves no temporary file behind.
  const tmp = (() => {
    try {
      return readdirSync(o.out).filter((f) => f.endsWith(".tmp"));
    } catch {
      return [];
    }
  })();
  expect(tmp, ctx).toEqual([]);
}

// ---------------------------------------------------------------------------------------------

const subprocessCases = CASES.filter((c) => "cli" in c.via);
const started = new Map<string, Promise<Outcome>>();

beforeAll(() => {
  // Subprocess cases start together (runCli caps how many run at once); in-process ones run in their tests.
  for (const c of subprocessCases) started.set(c.id, background(() => runSubprocess(c as Case & { via: { cli: string[] } })));
});

afterAll(() => removeTempDirs());

const counts = new Map<Category, number>();
for (const c of CASES) counts.set(c.category, (counts.get(c.category) ?? 0) + 1);

describe(`bad-input catalogue: ${CASES.length} cases (${[...counts].map(([k, n]) => `${k} ${n}`).join(", ")})`, () => {
  it("every case has its own id", () => {
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  for (const c of CASES) {
    it(`${c.id} [${c.category}]: ${c.broken} -> ${c.expect.code}, exit ${c.expect.exit}, reports ${c.expect.reports}`, async () => {
      const o = "gate" in c.via ? await runInProcess(c as Case & { via: { gate: GateCommandOptions } }) : await started.get(c.id)!;
      expectCase(c, o);
      // Dying engines: the healthy candidate after the dead one still ran, and passed.
      if (c.category === "engines" && "cli" in c.via) {
        const runs = readReport(join(o.out, "report.json")).runs;
        expect(runs.map((r) => [r.candidate, r.verdict])).toEqual([[`dying-${c.id.slice("engine.".length)}`, "error"], ["fp32", "pass"]]);
      }
    });
  }
});
