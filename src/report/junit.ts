/**
 * JUnit XML rendering of a report, shaped for the common consumers (GitHub test-report actions,
 * GitLab, Jenkins, Buildkite) and valid against Jenkins' junit-10.xsd (vendor/junit-10.xsd):
 *
 *   <testsuites name="numgate" tests failures errors time>
 *     <testsuite name="<run id>" tests failures errors skipped time timestamp file>   one per run
 *       <properties> numgate.run_id (the report set's), environment, oracle, ladder, file hashes </properties>
 *       <testcase classname="numgate.<model>.<candidate>" name="<rung id> [<prompt>]" time file>
 *         <failure message type="numgate.<kind>">first line = message naming the first divergence
 *         <error message type="<error code>">   could not be evaluated
 *         <skipped message="<reason>"/>
 *
 * One testcase per (rung, prompt); a rung without prompt results (skipped, or an error before any
 * prompt ran) is one testcase named by the rung id alone. A rung's time is split evenly across its
 * prompts. Dots in model/candidate become "_" in the classname so Jenkins' package.class split stays
 * `numgate.<model>` / `<candidate>`. All text has ANSI escapes and control characters stripped.
 */
import { gateUnit } from "../gates/registry.ts";
import { formatSeconds, formatThresholds, oneLine, stripControl } from "../render/text.ts";
import type { PromptResult, Report, Run, Rung, Verdict } from "./schema.ts";

function escXml(s: string): string {
  return stripControl(s).replace(/[&<>"]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;"));
}
/** Attribute values: one line, escaped. */
export function attr(s: string): string {
  return escXml(oneLine(s));
}
/** Element text: multi-line allowed. */
export function text(s: string): string {
  return escXml(s.replace(/\r\n?/g, "\n"));
}

const classPart = (s: string): string => oneLine(s).replace(/\./g, "_");

export function junitClassname(run: Pick<Run, "model" | "candidate">): string {
  return `numgate.${classPart(run.model)}.${classPart(run.candidate)}`;
}

export interface JunitCase {
  classname: string;
  name: string;
  time: number;
  verdict: Verdict;
  message: string;
  /** failure/error type attribute */
  type: string;
  body: string;
}

export interface JunitSuite {
  name: string;
  file: string;
  time: number;
  cases: JunitCase[];
  properties: [string, string][];
}

/** Lines about the prompt's evidence: the gate kind's own (src/gates/<kind>/render.ts), or the error. */
function promptBody(p: PromptResult): string[] {
  const ev = p.evidence;
  if (ev.kind !== "error") return gateUnit(ev.kind).render.junit(ev);
  return [ev.detail, ...(ev.tensor === undefined ? [] : [`tensor: ${ev.tensor}`]), ...(ev.layer === undefined ? [] : [`layer: ${ev.layer}`])];
}

function rungFooter(run: Run, rung: Rung): string[] {
  const out: string[] = [];
  if (Object.keys(rung.thresholds).length > 0) out.push(`thresholds: ${formatThresholds(rung.thresholds)}`);
  if (rung.error) {
    out.push(`error ${rung.error.code}: ${oneLine(rung.error.message)}`);
    if (rung.error.file !== undefined) out.push(`file: ${rung.error.file}${rung.error.field === undefined ? "" : ` field: ${rung.error.field}`}`);
  }
  out.push(`spec: ${run.spec_file}`);
  return out;
}

/** The testcases of one run, names unique within the suite. */
export function junitCases(run: Run): JunitCase[] {
  const classname = junitClassname(run);
  const cases: JunitCase[] = [];
  const used = new Set<string>();
  const unique = (n: string): string => {
    let name = n;
    for (let i = 2; used.has(name); i++) name = `${n} #${i}`;
    used.add(name);
    return name;
  };
  if (run.error !== undefined) {
    // A run that could not start still shows up as an <error> in CI, with the file and field at fault.
    const message = oneLine(run.error.message);
    cases.push({
      classname,
      name: unique("setup"),
      time: 0,
      verdict: "error",
      message,
      type: run.error.code,
      body: [message, ...(run.error.file === undefined ? [] : [`file: ${run.error.file}`]), ...(run.error.field === undefined ? [] : [`field: ${run.error.field}`]), `spec: ${run.spec_file}`].join("\n"),
    });
  }
  for (const rung of run.rungs) {
    const footer = rungFooter(run, rung);
    if (rung.prompts.length === 0) {
      const message = rung.verdict === "skipped" ? (rung.skip_reason ?? rung.message) : rung.message;
      cases.push({
        classname,
        name: unique(oneLine(rung.id)),
        time: rung.duration_s,
        verdict: rung.verdict,
        message: oneLine(message),
        type: rung.verdict === "error" ? (rung.error?.code ?? "numgate.error") : `numgate.${rung.kind}`,
        body: [oneLine(message), ...footer].join("\n"),
      });
      continue;
    }
    const share = rung.duration_s / rung.prompts.length;
    for (const p of rung.prompts) {
      // A prompt inherits a rung-level skip/error only when it has no verdict of its own.
      const verdict = p.verdict;
      const message =
        verdict === "skipped" ? oneLine(p.message || rung.skip_reason || rung.message) : oneLine(p.message || rung.message);
      const type = verdict === "error" ? (rung.error?.code ?? "numgate.error") : `numgate.${rung.kind}`;
      cases.push({
        classname,
        name: unique(`${oneLine(rung.id)} [${oneLine(p.prompt)}]`),
        time: share,
        verdict,
        message,
        type,
        body: [message, ...promptBody(p).map(oneLine), ...footer].join("\n"),
      });
    }
  }
  return cases;
}

function runProperties(report: Report, run: Run): [string, string][] {
  // On every suite, so a consumer that reads only one suite can still match it to report.json.
  const props: [string, string][] = report.run_id === undefined ? [] : [["numgate.run_id", report.run_id]];
  props.push(
    ["numgate.version", report.environment.numgate],
    ["node.version", report.environment.node],
    ["onnxruntime.version", report.environment.onnxruntime ?? "none"],
    ["platform", report.environment.platform],
    ["model", run.model],
    ["candidate", run.candidate],
    ["spec_file", run.spec_file],
    ["ladder", run.ladder],
    ["ladder_file", run.ladder_file],
    ["oracle.dir", run.oracle.dir],
    ["oracle.source", run.oracle.source],
    ["oracle.transformers", run.oracle.transformers],
    ["oracle.torch", run.oracle.torch],
    ...(run.backend === undefined ? [] : [["backend", run.backend] as [string, string]]),
  );
  for (const f of run.files) props.push([`sha256:${f.role}:${f.path}`, f.sha256]);
  return props;
}

function count(cases: readonly JunitCase[], v: Verdict): number {
  return cases.filter((c) => c.verdict === v).length;
}

/** `2025-01-01T00:00:00` (the Ant JUnit timestamp form: no zone, no fraction). */
function junitTimestamp(iso: string): string {
  return iso.replace(/\.\d+/, "").replace(/(Z|[+-]\d\d:\d\d)$/, "");
}

/** Renders the report as JUnit XML (UTF-8, trailing newline). Deterministic for a given report. */
export function renderJunit(report: Report): string {
  const suites = report.runs.map((run) => ({ run, cases: junitCases(run) }));
  const all = suites.flatMap((s) => s.cases);
  const totalTime = report.runs.reduce((a, r) => a + r.duration_s, 0);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="numgate" tests="${all.length}" failures="${count(all, "fail")}" errors="${count(all, "error")}" time="${formatSeconds(totalTime)}">`,
  );
  suites.forEach(({ run, cases }, i) => {
    out.push(
      `  <testsuite name="${attr(run.id)}" tests="${cases.length}" failures="${count(cases, "fail")}" errors="${count(cases, "error")}" skipped="${count(cases, "skipped")}" time="${formatSeconds(run.duration_s)}" timestamp="${attr(junitTimestamp(report.generated_at))}" id="${i}" package="${attr(junitClassname(run))}" file="${attr(run.spec_file)}">`,
    );
    out.push("    <properties>");
    for (const [name, value] of runProperties(report, run)) out.push(`      <property name="${attr(name)}" value="${attr(value)}"/>`);
    out.push("    </properties>");
    for (const c of cases) {
      // junit-10.xsd allows no file attribute on <testcase>: the spec is named on <testsuite file=…>
      // and in every failure's text instead.
      const open = `    <testcase classname="${attr(c.classname)}" name="${attr(c.name)}" time="${formatSeconds(c.time)}"`;
      switch (c.verdict) {
        case "pass":
          out.push(`${open}/>`);
          break;
        case "skipped":
          out.push(`${open}>`, `      <skipped message="${attr(c.message)}"/>`, "    </testcase>");
          break;
        case "fail":
        case "error": {
          const tag = c.verdict === "fail" ? "failure" : "error";
          out.push(`${open}>`, `      <${tag} message="${attr(c.message)}" type="${attr(c.type)}">${text(c.body)}</${tag}>`, "    </testcase>");
          break;
        }
      }
    }
    out.push("  </testsuite>");
  });
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}
