/** The repeat evidence in report.html and in a JUnit failure. */
import { html, type SafeHtml } from "../../render/html.ts";
import type { EvidenceRendering, HtmlContext } from "../unit.ts";
import type { RepeatEvidence } from "./evidence.ts";

function repeatHtml(ev: RepeatEvidence, ctx: HtmlContext): SafeHtml {
  const split = ev.first_split;
  return html`<p class="msg">${ev.differing}/${ev.runs} fresh runs differ (flakiness ${ev.flakiness.toFixed(3)}); per run, the step where it leaves the others: ${ev.splits.map((s) => (s === null ? "—" : String(s))).join(", ")}${
    split === undefined ? "" : html`; runs ${split.runs[0] + 1} and ${split.runs[1] + 1} split first at step ${split.step} (${ctx.token(split.tokens[0])} vs ${ctx.token(split.tokens[1])})`
  }.</p>`;
}

function repeatJunit(ev: RepeatEvidence): string[] {
  const s = ev.first_split;
  return [`${ev.differing}/${ev.runs} runs differ (flakiness ${ev.flakiness.toFixed(3)})` + (s === undefined ? "" : `; runs ${s.runs[0] + 1} and ${s.runs[1] + 1} split at step ${s.step}`)];
}

export const repeatRendering: EvidenceRendering<RepeatEvidence> = { html: repeatHtml, junit: repeatJunit };
