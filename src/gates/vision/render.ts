/** The vision evidence in report.html and in a JUnit failure. */
import { html, td, tdNum, verdictBadge, type SafeHtml } from "../../render/html.ts";
import { formatCos, formatNum } from "../../render/text.ts";
import type { EvidenceRendering } from "../unit.ts";
import type { VisionEvidence } from "./evidence.ts";

function visionHtml(ev: VisionEvidence): SafeHtml {
  const rows = ev.tensors.map(
    (t) =>
      html`<tr class="${t.verdict === "pass" ? "" : "bad"}">${td(html`<code>${t.name}</code>`)}${tdNum(t.rows)}${tdNum(formatCos(t.cos))}${tdNum(formatCos(t.cos_worst_row))}${tdNum(
        t.worst_row,
      )}${tdNum(formatNum(t.max_abs))}${tdNum(formatNum(t.rel_l2))}${verdictBadge(t.verdict, "td")}</tr>`,
  );
  return html`<table class="vision"><thead><tr><th>tensor</th><th>rows</th><th>cos</th><th>worst-row cos</th><th>worst row</th><th>max abs</th><th>rel L2</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function visionJunit(ev: VisionEvidence): string[] {
  return ev.tensors
    .filter((x) => x.verdict !== "pass")
    .map((t) => `${t.name}: cos ${formatCos(t.cos)} worst-row ${formatCos(t.cos_worst_row)} (row ${t.worst_row}) max_abs ${formatNum(t.max_abs)}`);
}

export const visionRendering: EvidenceRendering<VisionEvidence> = { html: visionHtml, junit: visionJunit };
