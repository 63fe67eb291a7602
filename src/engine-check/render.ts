/** The conformance suite's results as a console table and as JUnit XML. */
import { attr, text } from "../report/junit.ts";
import type { CheckResult } from "./checks.ts";

export function renderTable(results: readonly CheckResult[]): string {
  const w = Math.max(...results.map((r) => r.id.length));
  const lines = results.map((r) => `${r.verdict.toUpperCase().padEnd(7)} ${r.id.padEnd(w)}  ${r.seconds.toFixed(2).padStart(6)}s  ${r.message}`);
  const n = (v: string) => results.filter((r) => r.verdict === v).length;
  lines.push(`engine check: ${n("pass")} pass, ${n("fail")} fail, ${n("skipped")} skipped`);
  return `${lines.join("\n")}\n`;
}

export function renderJunitChecks(results: readonly CheckResult[], command: readonly string[]): string {
  const n = (v: string) => results.filter((r) => r.verdict === v).length;
  const time = results.reduce((a, r) => a + r.seconds, 0).toFixed(3);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="numgate engine check" tests="${results.length}" failures="${n("fail")}" errors="0" time="${time}">`];
  out.push(`  <testsuite name="${attr(command.join(" "))}" tests="${results.length}" failures="${n("fail")}" errors="0" skipped="${n("skipped")}" time="${time}">`);
  for (const r of results) {
    const open = `    <testcase classname="numgate.engine_check" name="${attr(r.id)}" time="${r.seconds.toFixed(3)}"`;
    if (r.verdict === "pass") out.push(`${open}/>`);
    else if (r.verdict === "skipped") out.push(`${open}>`, `      <skipped message="${attr(r.message)}"/>`, "    </testcase>");
    else out.push(`${open}>`, `      <failure message="${attr(r.message)}" type="engine_conformance">${text(`${r.title}\n${r.message}`)}</failure>`, "    </testcase>");
  }
  out.push("  </testsuite>", "</testsuites>");
  return `${out.join("\n")}\n`;
}
