/**
 * GitHub Actions niceties, active when GITHUB_ACTIONS is set:
 * - `::error file=<gate spec>,title=...::<message>` workflow commands for failing and erroring
 *   rungs (one per rung; the message names the first divergence);
 * - a Markdown job summary appended to $GITHUB_STEP_SUMMARY.
 */
import { appendFileSync } from "node:fs";
import type { Report, Verdict } from "./schema.ts";
import { formatSeconds, oneLine } from "./text.ts";
import type { OutStream } from "./console.ts";

/** Escaping for workflow-command data (after `::`). */
function escData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
/** Escaping for workflow-command property values. */
function escProp(s: string): string {
  return escData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** One `::error` line per failing or erroring rung. */
export function githubAnnotations(report: Report): string[] {
  const out: string[] = [];
  for (const run of report.runs) {
    for (const rung of run.rungs) {
      if (rung.verdict !== "fail" && rung.verdict !== "error") continue;
      const title = `numgate ${oneLine(run.id)} ${oneLine(rung.id)}: ${rung.verdict === "fail" ? "FAIL" : "ERROR"}`;
      out.push(`::error file=${escProp(oneLine(run.spec_file))},title=${escProp(title)}::${escData(oneLine(rung.message))}`);
    }
  }
  return out;
}

const ICON: Record<Verdict, string> = { pass: "✅ pass", fail: "❌ **FAIL**", error: "⚠️ **ERROR**", skipped: "⏭️ skipped" };

/** Markdown-safe inline text: HTML metacharacters as entities, table pipes escaped, one line. */
export function mdText(s: string): string {
  return oneLine(s).replace(/[&<>|\\`*_[\]#~]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : `\\${c}`));
}

/** The Markdown job summary. */
export function renderGithubSummary(report: Report): string {
  const lines: string[] = ["## numgate report", ""];
  const cols: string[] = [];
  for (const run of report.runs) for (const r of run.rungs) if (!cols.includes(r.id)) cols.push(r.id);
  lines.push(`| run | verdict | ${cols.map(mdText).join(" | ")} |`);
  lines.push(`|---|---|${cols.map(() => "---").join("|")}|`);
  for (const run of report.runs) {
    const cells = cols.map((c) => {
      const r = run.rungs.find((x) => x.id === c);
      return r === undefined ? "—" : ICON[r.verdict];
    });
    lines.push(`| ${mdText(run.id)} | ${ICON[run.verdict]} | ${cells.join(" | ")} |`);
  }
  lines.push("");
  const bad = report.runs.flatMap((run) => run.rungs.filter((r) => r.verdict === "fail" || r.verdict === "error").map((r) => ({ run, r })));
  if (bad.length > 0) {
    lines.push("### Failures", "");
    for (const { run, r } of bad) {
      lines.push(`- ${ICON[r.verdict]} \`${oneLine(run.id).replace(/`/g, "'")}\` / \`${oneLine(r.id).replace(/`/g, "'")}\`: ${mdText(r.message)} (spec: \`${oneLine(run.spec_file).replace(/`/g, "'")}\`)`);
      for (const p of r.prompts) {
        if (p.verdict === "pass" || p.verdict === "skipped") continue;
        lines.push(`  - ${mdText(p.prompt)}: ${mdText(p.message)}`);
      }
    }
    lines.push("");
  }
  const total = report.runs.reduce((a, r) => a + r.duration_s, 0);
  lines.push(
    `<sub>numgate ${mdText(report.environment.numgate)} · node ${mdText(report.environment.node)} · onnxruntime ${mdText(report.environment.onnxruntime ?? "none")} · ${mdText(report.environment.platform)} · ${formatSeconds(total)} s · generated ${mdText(report.generated_at)}</sub>`,
    "",
  );
  return lines.join("\n");
}

/**
 * When GITHUB_ACTIONS is set: writes annotations to `stream` and appends the summary to
 * $GITHUB_STEP_SUMMARY (when that is set). Returns whether anything was done.
 */
export function emitGithub(report: Report, env: NodeJS.ProcessEnv = process.env, stream: OutStream = process.stdout): boolean {
  const gha = env["GITHUB_ACTIONS"];
  if (gha === undefined || gha === "" || gha === "false") return false;
  for (const line of githubAnnotations(report)) stream.write(`${line}\n`);
  const summary = env["GITHUB_STEP_SUMMARY"];
  if (summary !== undefined && summary !== "") appendFileSync(summary, `${renderGithubSummary(report)}\n`);
  return true;
}
