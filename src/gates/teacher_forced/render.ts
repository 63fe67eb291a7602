/** The teacher-forced evidence in report.html (one row per step) and in a JUnit failure. */
import { html, td, tdNum, type SafeHtml } from "../../render/html.ts";
import { formatNum } from "../../render/text.ts";
import type { EvidenceRendering, HtmlContext } from "../unit.ts";
import type { TeacherForcedEvidence } from "./evidence.ts";

function teacherForcedHtml(ev: TeacherForcedEvidence, ctx: HtmlContext): SafeHtml {
  const tok = ctx.token;
  const marginUnit = ctx.units["margin"] ?? "logits";
  const klUnit = ctx.units["kl"] ?? "";
  const first = ev.steps.find((s) => !s.match);
  const rows = ev.steps.map((s) => {
    const cls = s === first ? "first-divergence" : !s.match ? (s.waived ? "waived" : "bad") : "";
    return html`<tr class="${cls}" data-step="${s.step}">${tdNum(s.step)}${tdNum(tok(s.oracle_token))}${tdNum(tok(s.candidate_token))}${td(s.match ? "✓" : "✗")}${tdNum(formatNum(s.oracle_margin))}${tdNum(
      formatNum(s.kl),
    )}${tdNum(formatNum(s.topk_overlap))}${td(s.near_tie ? "near tie" : "")}${td(s.waived ? "waived" : "")}</tr>`;
  });
  return html`<p class="msg"><b>${ev.matches}/${ev.total}</b> top-1 matches; ${ev.near_tie_flips} near-tie flip(s); min oracle margin ${formatNum(ev.min_oracle_margin)} ${marginUnit}; top-k k=${ev.k}.${
    first
      ? html` First divergence at step <b>${first.step}</b>: oracle ${tok(first.oracle_token)}, candidate ${tok(first.candidate_token)}, margin ${formatNum(first.oracle_margin)} ${marginUnit}.`
      : ""
  }</p><table class="tf-steps"><thead><tr><th>step</th><th>oracle token</th><th>candidate token</th><th>match</th><th>oracle margin (${marginUnit})</th><th>KL${
    klUnit ? html` (${klUnit})` : ""
  }</th><th>top-${ev.k} overlap</th><th>near tie</th><th>waived</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function teacherForcedJunit(ev: TeacherForcedEvidence): string[] {
  const lines = [`${ev.matches}/${ev.total} top-1 matches, ${ev.near_tie_flips} near-tie flips, min oracle margin ${formatNum(ev.min_oracle_margin)} logits`];
  const m = ev.steps.find((s) => !s.match);
  if (m) lines.push(`first mismatch step ${m.step}: oracle ${m.oracle_token} candidate ${m.candidate_token} margin ${formatNum(m.oracle_margin)} logits${m.waived ? " (waived)" : ""}`);
  return lines;
}

export const teacherForcedRendering: EvidenceRendering<TeacherForcedEvidence> = { html: teacherForcedHtml, junit: teacherForcedJunit };
