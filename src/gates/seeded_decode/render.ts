/** The seeded-decode evidence in report.html and in a JUnit failure. */
import { html, type SafeHtml } from "../../render/html.ts";
import { formatCos, formatNum } from "../../render/text.ts";
import type { EvidenceRendering, HtmlContext } from "../unit.ts";
import type { SeededDecodeEvidence } from "./evidence.ts";

function seededDecodeHtml(ev: SeededDecodeEvidence, ctx: HtmlContext): SafeHtml {
  return html`<p class="msg">Seeded with the oracle's prefill cache (${ev.cache_length} tokens), fed ${ctx.token(ev.fed_token)} at position (${ev.position.join(", ")}): logits cos <b>${formatCos(
    ev.logits_cos,
  )}</b>, KL ${formatNum(ev.kl)} nats; top-1 oracle ${ctx.token(ev.oracle_top1)}, candidate ${ctx.token(ev.candidate_top1)} ${ev.match ? "✓" : "✗"}; oracle margin ${formatNum(ev.oracle_margin)} logits.</p>`;
}

function seededDecodeJunit(ev: SeededDecodeEvidence): string[] {
  return [
    `seeded with ${ev.cache_length} cached tokens, fed ${ev.fed_token} at (${ev.position.join(", ")}): logits cos ${formatCos(ev.logits_cos)}, top-1 oracle ${ev.oracle_top1} candidate ${ev.candidate_top1}`,
  ];
}

export const seededDecodeRendering: EvidenceRendering<SeededDecodeEvidence> = { html: seededDecodeHtml, junit: seededDecodeJunit };
