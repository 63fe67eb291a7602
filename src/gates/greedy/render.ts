/** The greedy evidence in report.html (both rollouts side by side) and in a JUnit failure. */
import { html, td, tdNum, type SafeHtml } from "../../render/html.ts";
import { formatNum } from "../../render/text.ts";
import type { EvidenceRendering, HtmlContext } from "../unit.ts";
import type { GreedyEvidence } from "./evidence.ts";

function greedyHtml(ev: GreedyEvidence, ctx: HtmlContext): SafeHtml {
  const tok = ctx.token;
  const marginUnit = ctx.units["margin"] ?? "logits";
  const n = Math.max(ev.oracle_tokens.length, ev.candidate_tokens.length);
  const fd = ev.first_divergence;
  let firstStep = fd?.step;
  if (firstStep === undefined) {
    for (let i = 0; i < n; i++) if (ev.oracle_tokens[i] !== ev.candidate_tokens[i]) { firstStep = i; break; }
  }
  const rows: SafeHtml[] = [];
  for (let i = 0; i < n; i++) {
    const o = ev.oracle_tokens[i];
    const c = ev.candidate_tokens[i];
    const same = o === c;
    rows.push(
      html`<tr class="${i === firstStep ? "first-divergence" : same ? "" : "bad"}" data-step="${i}">${tdNum(i)}${tdNum(tok(o))}${tdNum(tok(c))}${td(same ? "✓" : "✗")}${tdNum(
        i === fd?.step ? formatNum(fd.oracle_margin) : "",
      )}</tr>`,
    );
  }
  return html`<p class="msg"><b>${ev.matches}/${ev.total}</b> tokens match${ev.tolerance ? html` (tolerance ${ev.tolerance}${ev.k === undefined ? "" : html`, k=${ev.k}`})` : ""}.${
    fd ? html` First divergence at step <b>${fd.step}</b>: oracle ${tok(fd.oracle_token)}, candidate ${tok(fd.candidate_token)}, oracle margin ${formatNum(fd.oracle_margin)} ${marginUnit}.` : ""
  }</p><table class="greedy-tokens"><thead><tr><th>step</th><th>oracle</th><th>candidate</th><th>match</th><th>oracle margin (${marginUnit})</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function greedyJunit(ev: GreedyEvidence): string[] {
  const lines = [`${ev.matches}/${ev.total} tokens match`];
  const d = ev.first_divergence;
  if (d) lines.push(`first divergence step ${d.step}: oracle ${d.oracle_token} candidate ${d.candidate_token} margin ${formatNum(d.oracle_margin)} logits`);
  return lines;
}

export const greedyRendering: EvidenceRendering<GreedyEvidence> = { html: greedyHtml, junit: greedyJunit };
