/** The engine_vs_reference evidence in report.html and in a JUnit failure. */
import { html, type SafeHtml } from "../../render/html.ts";
import { formatNum } from "../../render/text.ts";
import type { EvidenceRendering, HtmlContext } from "../unit.ts";
import type { EngineVsReferenceEvidence } from "./evidence.ts";

type Agreement = EngineVsReferenceEvidence["greedy"];

function line(what: string, a: Agreement, ctx: HtmlContext): SafeHtml {
  const d = a.first_divergence;
  return html`<li>${what}: ${a.matches}/${a.total}${
    d === undefined ? "" : html`; first divergence at step ${d.step}: candidate ${ctx.token(d.candidate_token)} (margin ${formatNum(d.candidate_margin)}) vs reference ${ctx.token(d.reference_token)} (margin ${formatNum(d.reference_margin)} logits)`
  }</li>`;
}

function evrHtml(ev: EngineVsReferenceEvidence, ctx: HtmlContext): SafeHtml {
  return html`<p class="msg">Against the reference build <b>${ev.reference}</b>:</p><ul>${line("greedy", ev.greedy, ctx)}${line("teacher-forced top-1", ev.teacher_forced, ctx)}</ul>`;
}

function evrJunit(ev: EngineVsReferenceEvidence): string[] {
  const one = (what: string, a: Agreement) => `${what} ${a.matches}/${a.total}` + (a.first_divergence === undefined ? "" : ` (first divergence at step ${a.first_divergence.step})`);
  return [`against ${ev.reference}: ${one("greedy", ev.greedy)}; ${one("teacher-forced", ev.teacher_forced)}`];
}

export const engineVsReferenceRendering: EvidenceRendering<EngineVsReferenceEvidence> = { html: evrHtml, junit: evrJunit };
