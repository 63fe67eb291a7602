/** The positions evidence in report.html and in a JUnit failure. */
import { html, td, tdNum, type SafeHtml } from "../../render/html.ts";
import type { EvidenceRendering, HtmlContext } from "../unit.ts";
import type { PositionsEvidence } from "./evidence.ts";

function positionsHtml(ev: PositionsEvidence, ctx: HtmlContext): SafeHtml {
  const checks = ev.checks.map(
    (c) =>
      html`<tr class="${c.mismatches > 0 ? "bad" : ""}">${td(html`<code>${c.name}</code>`)}${tdNum(c.compared)}${tdNum(c.mismatches)}${td(c.expressible ? "yes" : "no")}${td(
        c.first ? html`token ${c.first.token}, plane <b>${c.first.plane}</b>: expected ${c.first.expected}, actual ${c.first.actual}` : "—",
      )}${td(c.note ?? "", "small")}</tr>`,
  );
  const mismatchTables = ev.checks
    .filter((c) => c.rows.length > 0)
    .map((c) => {
      const cell = (e: readonly number[], a: readonly number[], k: number, which: "e" | "a"): SafeHtml => {
        const v = which === "e" ? e[k] : a[k];
        return html`<td class="num${e[k] !== a[k] ? " diffcell" : ""}">${v ?? ""}</td>`;
      };
      const rows = c.rows.map(
        (r) =>
          html`<tr>${tdNum(r.token)}${tdNum(ctx.token(r.token_id))}${[0, 1, 2].map((k) => cell(r.expected, r.actual, k, "e"))}${[0, 1, 2].map((k) => cell(r.expected, r.actual, k, "a"))}</tr>`,
      );
      return html`<h4>Mismatches: <code>${c.name}</code> (${c.rows.length} shown of ${c.mismatches})</h4><table class="positions-mismatches" data-check="${c.name}"><thead><tr><th rowspan="2">token</th><th rowspan="2">token id</th><th colspan="3">expected (t, h, w)</th><th colspan="3">actual (t, h, w)</th></tr><tr><th>t</th><th>h</th><th>w</th><th>t</th><th>h</th><th>w</th></tr></thead><tbody>${rows}</tbody></table>`;
    });
  return html`<table class="positions-checks"><thead><tr><th>check</th><th>compared</th><th>mismatches</th><th>expressible</th><th>first mismatch</th><th>note</th></tr></thead><tbody>${checks}</tbody></table>${mismatchTables}`;
}

function positionsJunit(ev: PositionsEvidence): string[] {
  return ev.checks
    .filter((x) => x.mismatches > 0)
    .map((c) => {
      const f = c.first;
      return (
        `${c.name}: ${c.mismatches}/${c.compared} mismatches${c.expressible ? "" : " (not expressible)"}` +
        (f ? `; first token ${f.token} plane ${f.plane} expected ${f.expected} actual ${f.actual}` : "")
      );
    });
}

export const positionsRendering: EvidenceRendering<PositionsEvidence> = { html: positionsHtml, junit: positionsJunit };
