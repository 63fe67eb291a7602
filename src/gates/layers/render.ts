/** The layers evidence in report.html (chart and table) and in a JUnit failure. */
import { html, trustedHtml, verdictBadge, type SafeHtml } from "../../render/html.ts";
import { formatCos, formatNum } from "../../render/text.ts";
import type { EvidenceRendering, HtmlContext } from "../unit.ts";
import { layerChartSvg } from "./chart.ts";
import type { LayersEvidence } from "./evidence.ts";

function layersHtml(ev: LayersEvidence, ctx: HtmlContext): SafeHtml {
  const ff = ev.first_failing;
  const fi = ev.first_failing_isolated;
  const hasIso = ev.layers.some((l) => l.isolated_cos !== undefined);
  // 36 layers x prompts x candidates: plain cells (numeric by table.layers's CSS) and no class
  // on passing rows keep the page small; every number stays.
  const td = (content: string | number): SafeHtml => html`<td>${content}</td>`;
  const rows = ev.layers.map((l) => {
    const cls = `${l.verdict === "pass" ? "" : "bad"}${ff?.layer === l.layer ? " first-divergence" : ""}`;
    return html`<tr${cls === "" ? "" : html` class="${cls}"`} data-layer="${l.layer}">${td(l.layer)}${td(formatCos(l.cos))}${td(formatCos(l.cos_worst_row))}${td(l.worst_token)}${td(
      formatNum(l.max_abs),
    )}${td(formatNum(l.rel_l2))}${hasIso ? td(formatCos(l.isolated_cos)) : ""}${verdictBadge(l.verdict, "td")}</tr>`;
  });
  return html`<p class="msg">Mode: <b>${ev.mode}</b>.${ff ? html` First failing layer <b>${ff.layer}</b>, token <b>${ff.token}</b>, cos ${formatCos(ff.cos)}.` : ""}${
    fi ? html` First failing layer in isolation <b>${fi.layer}</b>, token <b>${fi.token}</b>, cos ${formatCos(fi.cos)}.` : ""
  }</p>${trustedHtml(layerChartSvg(ev, ctx.thresholds))}<div class="legend"><i style="background:#0969da"></i>cos (whole tensor)<i style="background:#8250df;border-radius:0"></i>worst-row cos${
    hasIso ? html`<i style="background:#1a7f37"></i>isolated cos` : ""
  }<i style="background:#cf222e"></i>failing layer; dashed line: threshold</div><table class="layers"><thead><tr><th>layer</th><th>cos</th><th>worst-row cos</th><th>worst token</th><th>max abs</th><th>rel L2</th>${
    hasIso ? html`<th>isolated cos</th>` : ""
  }<th>verdict</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function layersJunit(ev: LayersEvidence): string[] {
  const lines: string[] = [];
  const ff = ev.first_failing;
  if (ff) lines.push(`first failing layer ${ff.layer} token ${ff.token} cos ${formatCos(ff.cos)}`);
  const fi = ev.first_failing_isolated;
  if (fi) lines.push(`first failing layer (isolated) ${fi.layer} token ${fi.token} cos ${formatCos(fi.cos)}`);
  for (const l of ev.layers.filter((x) => x.verdict !== "pass").slice(0, 8)) {
    lines.push(`layer ${l.layer}: cos ${formatCos(l.cos)} worst-row ${formatCos(l.cos_worst_row)} (token ${l.worst_token}) max_abs ${formatNum(l.max_abs)} rel_l2 ${formatNum(l.rel_l2)}`);
  }
  return lines;
}

export const layersRendering: EvidenceRendering<LayersEvidence> = { html: layersHtml, junit: layersJunit };
