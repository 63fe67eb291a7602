/**
 * Finds and validates everything a gate run needs before any model is loaded: the gate spec,
 * its ladder, the oracle directory and the chosen candidate. Every problem names the file and
 * the field (and line:col for YAML).
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { NumgateError } from "../errors/numgate-error.ts";
import { confinedPath } from "../files/confine.ts";
import { isFamilyName, unknownFamilyMessage } from "../models/registry.ts";
import { GateSpecSchema, type CandidateEntry, type GateSpec } from "../spec/gate-spec.ts";
import { gateUnit } from "../gates/registry.ts";
import type { SettingFault } from "../gates/unit.ts";
import { LadderSchema, rungSettingIssues, type Ladder, type RungSpec, type SettingSection } from "../spec/ladder.ts";
import { lineColOf, loadYamlFile } from "../spec/yaml.ts";
import type { RungPlan } from "../ladder/run.ts";

export interface ResolvedSpec {
  root: string;
  specPath: string;
  spec: GateSpec;
  ladderPath: string;
  ladder: Ladder;
  oracleDir: string;
}

export function rel(p: string): string {
  return relative(process.cwd(), p) || p;
}

export function knownModels(root: string): string[] {
  const dir = join(root, "gates");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => basename(f, ".yaml"))
    .sort();
}

/** A fault at `field` of a spec or ladder file, located at its line:col. */
function specFault(specPath: string, field: (string | number)[], message: string, code: "schema_violation" | "unknown_rung" = "schema_violation"): NumgateError {
  const at = lineColOf(specPath, field);
  return new NumgateError(code, message, { file: rel(specPath), field: field.join("."), ...(at === undefined ? {} : { line: at.line, column: at.column }) });
}

type Overrides = Record<string, Record<string, unknown>>;

/**
 * A setting a rung can never pass with, once the ladder's defaults and the spec's and candidate's
 * overrides are merged; located where the most specific of the settings involved was written.
 */
function impossibleSetting(r: Omit<ResolvedSpec, "oracleDir" | "root">, candidate: string | undefined): NumgateError | undefined {
  const layers: { file: string; base: (string | number)[]; overrides: (section: SettingSection) => Overrides }[] = [];
  const entry = candidate === undefined ? undefined : specCandidate(r.spec, candidate);
  if (entry !== undefined) layers.push({ file: r.specPath, base: ["candidates", candidate as string], overrides: (s) => entry[s] });
  layers.push({ file: r.specPath, base: [], overrides: (s) => r.spec[s] });
  for (const [i, rung] of r.ladder.rungs.entries()) {
    const merged = (section: SettingSection) =>
      Object.assign({}, rung[section], ownValue(r.spec[section], rung.id), entry === undefined ? undefined : ownValue(entry[section], rung.id));
    const faults = gateUnit(rung.kind).impossible({ thresholds: merged("thresholds") as Record<string, number>, options: merged("options") });
    const fault = faults[0];
    if (fault === undefined) continue;
    return locateFault(r, layers, rung, i, fault);
  }
  return undefined;
}

function locateFault(
  r: Omit<ResolvedSpec, "oracleDir" | "root">,
  layers: { file: string; base: (string | number)[]; overrides: (section: SettingSection) => Overrides }[],
  rung: RungSpec,
  index: number,
  fault: SettingFault,
): NumgateError {
  const message = `rung ${rung.id}: ${fault.message}`;
  const involved = [fault, ...(fault.involves ?? [])];
  for (const l of layers) {
    for (const { section, key } of involved) {
      if (ownValue(l.overrides(section), rung.id)?.[key] !== undefined) return specFault(l.file, [...l.base, section, rung.id, key], message);
    }
  }
  for (const { section, key } of involved) {
    if (rung[section][key] !== undefined) return specFault(r.ladderPath, ["rungs", index, section, key], message);
  }
  return specFault(r.ladderPath, ["rungs", index], message);
}

export function resolveSpec(root: string, model: string): ResolvedSpec {
  const specPath = join(root, "gates", `${model}.yaml`);
  if (!existsSync(specPath)) {
    const known = knownModels(root);
    throw new NumgateError("unknown_model", `no gate spec for "${model}" (looked for ${rel(specPath)}); known models: ${known.join(", ") || "none"}`);
  }
  // Loaded by their cwd-relative path so that every message (and report.json) names it that way.
  const spec = loadYamlFile(rel(specPath), GateSpecSchema, "gate spec");
  if (!isFamilyName(spec.family)) {
    throw specFault(specPath, ["family"], unknownFamilyMessage(spec.family));
  }
  const ladderPath = join(root, "ladders", `${spec.ladder}.yaml`);
  if (!existsSync(ladderPath)) {
    throw specFault(specPath, ["ladder"], `ladder "${spec.ladder}" not found (looked for ${rel(ladderPath)})`);
  }
  const ladder = loadYamlFile(rel(ladderPath), LadderSchema, "ladder");
  if (ladder.family !== spec.family) {
    throw specFault(specPath, ["ladder"], `ladder "${ladder.name}" is for family ${ladder.family}, but the spec is ${spec.family}`);
  }
  if (specCandidate(spec, spec.default_candidate) === undefined) {
    throw specFault(specPath, ["default_candidate"], `"${spec.default_candidate}" is not one of the candidates (${Object.keys(spec.candidates).join(", ")})`);
  }
  // Every override must name a rung of the ladder and settings that rung's kind understands.
  const checkOverrides = (base: (string | number)[], thresholds: Overrides, options: Overrides) => {
    for (const [rungId, t] of Object.entries(thresholds)) {
      const rung = ladder.rungs.find((r) => r.id === rungId);
      if (rung === undefined) {
        throw specFault(specPath, [...base, "thresholds", rungId], `no rung "${rungId}" in ladder ${spec.ladder} (rungs: ${ladder.rungs.map((r) => r.id).join(", ")})`, "unknown_rung");
      }
      const issue = rungSettingIssues(rung.kind, "thresholds", t)[0];
      if (issue !== undefined) throw specFault(specPath, [...base, "thresholds", rungId, ...issue.path], issue.message);
    }
    for (const [rungId, o] of Object.entries(options)) {
      const rung = ladder.rungs.find((r) => r.id === rungId);
      if (rung === undefined) {
        throw specFault(specPath, [...base, "options", rungId], `no rung "${rungId}" in ladder ${spec.ladder}`, "unknown_rung");
      }
      const issue = rungSettingIssues(rung.kind, "options", o)[0];
      if (issue !== undefined) throw specFault(specPath, [...base, "options", rungId, ...issue.path], issue.message);
    }
  };
  checkOverrides([], spec.thresholds, spec.options);
  for (const [name, c] of Object.entries(spec.candidates)) checkOverrides(["candidates", name], c.thresholds, c.options);
  // Thresholds no candidate could meet, for the spec's own defaults and for every candidate.
  const resolved = { specPath, spec, ladderPath, ladder };
  for (const name of [undefined, ...Object.keys(spec.candidates)]) {
    const fault = impossibleSetting(resolved, name);
    if (fault !== undefined) throw fault;
  }
  // The spec is data like any manifest: its paths stay in the project root unless it allows more.
  const outside = spec.allow_paths_outside.map((p) => resolve(root, p));
  const oracleDir = resolve(confinedPath(root, spec.oracle, { manifest: rel(specPath), field: "oracle" }, outside));
  for (const [name, c] of Object.entries(spec.candidates)) confinedPath(root, c.file, { manifest: rel(specPath), field: `candidates.${name}.file` }, outside);
  return { root, specPath, spec, ladderPath, ladder, oracleDir };
}

/** The spec's candidate called `name`, or undefined; own keys only, so "toString" names none. */
export function specCandidate(spec: GateSpec, name: string): CandidateEntry | undefined {
  return ownValue(spec.candidates, name);
}

export interface ResolvedCandidate {
  name: string;
  manifestPath: string;
  entry: CandidateEntry;
}

/** A candidate by spec name, or a path to a candidate manifest (held to the spec's thresholds). */
export function resolveCandidate(r: ResolvedSpec, nameOrPath: string | undefined): ResolvedCandidate {
  const name = nameOrPath ?? r.spec.default_candidate;
  const entry = specCandidate(r.spec, name);
  if (entry !== undefined) return { name, manifestPath: resolve(r.root, entry.file), entry };
  if (name.endsWith(".json")) {
    // A path given on the command line is the user's own choice: not confined, but it must exist.
    if (!existsSync(name)) throw new NumgateError("file_not_found", `candidate manifest ${name} does not exist (from ${resolve(name)}), and no candidate in ${rel(r.specPath)} is named so`, { file: name, field: "--candidate" });
    return { name: basename(name, ".json"), manifestPath: resolve(name), entry: { file: name, thresholds: {}, options: {}, expect: "pass" } };
  }
  throw new NumgateError(
    "schema_violation",
    `no candidate "${name}" in ${rel(r.specPath)} (candidates: ${Object.keys(r.spec.candidates).join(", ")}), and it is not a path to a candidate .json`,
    { file: rel(r.specPath), field: "candidates" },
  );
}

/** Ladder defaults, then spec-wide overrides, then the candidate's own. */
export function planRungs(r: ResolvedSpec, c: ResolvedCandidate): RungPlan[] {
  const specThresholds = (id: string) => ownValue(r.spec.thresholds, id);
  const specOptions = (id: string) => ownValue(r.spec.options, id);
  const candidateThresholds = (id: string) => ownValue(c.entry.thresholds, id);
  const candidateOptions = (id: string) => ownValue(c.entry.options, id);
  const asked = (id: string) => [specThresholds(id), specOptions(id), candidateThresholds(id), candidateOptions(id)].some((x) => x !== undefined);
  return r.ladder.rungs.filter((spec) => !spec.opt_in || asked(spec.id)).map((spec) => ({
    spec,
    thresholds: { ...spec.thresholds, ...specThresholds(spec.id), ...candidateThresholds(spec.id) } as Record<string, number>,
    options: { ...spec.options, ...specOptions(spec.id), ...candidateOptions(spec.id) } as Record<string, unknown>,
  }));
}

/**
 * `record[key]` when it is the record's own entry: a rung id such as "constructor" (a valid id)
 * must not find Object.prototype's member, which would make an opt-in rung read as asked for and
 * merge or locate settings the spec never wrote. Every read of overrides by rung id goes through it.
 */
function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
