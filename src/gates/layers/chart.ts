/**
 * The per-layer chart in report.html: log10(1 - cos), so 0.9999 and 0.99999 are a decade apart.
 * Built as a string of generated SVG; the only text from outside (tooltips, threshold names) goes
 * through `escapeHtml`.
 */
import { escapeHtml as h, formatCos } from "../../render/text.ts";
import type { LayerRow, LayersEvidence } from "./evidence.ts";

const LOG_FLOOR = 1e-12;

interface ChartOptions {
  width?: number;
  height?: number;
}

/** Inline SVG of per-layer (1 - cos) on a log scale: cos, worst-row cos, isolated cos; threshold lines; failing layers marked. */
export function layerChartSvg(ev: LayersEvidence, thresholds: Readonly<Record<string, number>>, opts: ChartOptions = {}): string {
  const W = opts.width ?? 720;
  const H = opts.height ?? 240;
  const m = { l: 64, r: 116, t: 14, b: 34 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const layers = ev.layers;
  const n = Math.max(1, layers.length);
  const gap = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Math.max(1 - v, 0));

  const thr: { key: string; v: number; cls: string; label: string }[] = [];
  const minCos = thresholds["min_cos"];
  if (minCos !== undefined) thr.push({ key: "min_cos", v: minCos, cls: "thr", label: `min_cos ${formatCos(minCos)}` });
  const minWorst = thresholds["min_cos_worst_row"];
  if (minWorst !== undefined) thr.push({ key: "min_cos_worst_row", v: minWorst, cls: "thr thr-worst", label: `worst ${formatCos(minWorst)}` });

  const vals: number[] = [];
  for (const l of layers) for (const v of [l.cos, l.cos_worst_row, l.isolated_cos]) {
    const g = gap(v);
    if (g !== null && g > 0) vals.push(g);
  }
  for (const t of thr) if (1 - t.v > 0) vals.push(1 - t.v);
  let lo = vals.length ? Math.floor(Math.log10(Math.max(LOG_FLOOR, Math.min(...vals)))) : -8;
  let hi = vals.length ? Math.ceil(Math.log10(Math.max(...vals))) : -2;
  hi = Math.min(Math.max(hi, lo + 1), 1); // 1 - cos <= 2 < 10^1
  if (hi - lo < 3) lo = hi - 3;
  const yOf = (g: number | null): number => {
    if (g === null) return m.t; // undefined metric: pinned to the top (worst)
    const lg = g <= 0 ? lo : Math.min(hi, Math.max(lo, Math.log10(g)));
    return m.t + ((hi - lg) / (hi - lo)) * ph;
  };
  const xOf = (i: number): number => m.l + (n === 1 ? pw / 2 : (i / (n - 1)) * pw);
  const r1 = (x: number): string => (Math.round(x * 10) / 10).toString();

  const parts: string[] = [];
  parts.push(
    `<svg class="chart layer-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="per-layer 1 - cosine, log scale">`,
  );
  // failing-layer bands behind everything, one per run of consecutive failing layers
  const bandW = n === 1 ? pw : pw / (n - 1);
  for (let i = 0; i < n; i++) {
    if (layers[i]?.verdict === "pass") continue;
    let j = i;
    while (j + 1 < n && layers[j + 1]?.verdict !== "pass") j++;
    parts.push(`<rect class="fail-band" x="${r1(xOf(i) - bandW / 2)}" y="${m.t}" width="${r1(bandW * (j - i + 1))}" height="${ph}"/>`);
    i = j;
  }
  // decade grid + labels
  for (let d = lo; d <= hi; d++) {
    const y = r1(yOf(10 ** d));
    parts.push(`<line class="grid" x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}"/>`);
    const cosLabel = d < 0 ? `cos ${(1 - 10 ** d).toFixed(-d)}` : "";
    parts.push(`<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">1e${d}</text>`);
    if (cosLabel) parts.push(`<text x="${m.l + pw + 6}" y="${y}" dominant-baseline="middle">${cosLabel}</text>`);
  }
  parts.push(`<line class="axis" x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}"/>`);
  parts.push(`<line class="axis" x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}"/>`);
  const step = Math.max(1, Math.ceil(n / 18));
  layers.forEach((l, i) => {
    if ((i % step === 0 && n - 1 - i >= step) || i === n - 1) parts.push(`<text x="${r1(xOf(i))}" y="${m.t + ph + 14}" text-anchor="middle">${l.layer}</text>`);
  });
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 4}" text-anchor="middle">layer</text>`);
  parts.push(`<text x="14" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.t + ph / 2})">1 − cos (log; up = worse)</text>`);
  // thresholds
  for (const t of thr) {
    const y = r1(yOf(1 - t.v));
    parts.push(`<line class="${t.cls}" data-threshold="${h(t.key)}" x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}"><title>${h(t.label)}</title></line>`);
  }
  // series lines
  const line = (get: (l: LayerRow) => number | null | undefined, cls: string): void => {
    const pts = layers
      .map((l, i) => [i, get(l)] as const)
      .filter(([, v]) => v !== undefined)
      .map(([i, v]) => `${r1(xOf(i))},${r1(yOf(gap(v)))}`);
    if (pts.length > 1) parts.push(`<polyline class="${cls}" points="${pts.join(" ")}"/>`);
  };
  line((l) => l.cos_worst_row, "line-worst");
  line((l) => l.cos, "line-cos");
  const hasIso = layers.some((l) => l.isolated_cos !== undefined);
  if (hasIso) line((l) => l.isolated_cos, "line-iso");
  // markers: exactly one cos marker per layer; a layer's markers share one group and one tooltip
  layers.forEach((l, i) => {
    const x = r1(xOf(i));
    const failing = l.verdict !== "pass" ? " failing" : "";
    const tip = h(
      `layer ${l.layer}: cos ${formatCos(l.cos)}, worst row ${formatCos(l.cos_worst_row)} (token ${l.worst_token})` +
        (l.isolated_cos === undefined ? "" : `, isolated ${formatCos(l.isolated_cos)}`) +
        `, ${l.verdict}`,
    );
    const yw = r1(yOf(gap(l.cos_worst_row)) - 4.2);
    parts.push(`<g><title>${tip}</title><path class="worst-marker${failing}" d="M${x} ${yw}l4.2 4.2-4.2 4.2-4.2-4.2z"/>`);
    if (l.isolated_cos !== undefined) {
      const yi = yOf(gap(l.isolated_cos));
      parts.push(`<path class="isolated-marker${failing}" d="M${x} ${r1(yi - 4)}l4 7h-8z"/>`);
    }
    parts.push(`<circle class="marker cos-marker${failing}${l.cos === null ? " nan" : ""}" data-layer="${l.layer}" cx="${x}" cy="${r1(yOf(gap(l.cos)))}" r="${failing ? 4.5 : 3.5}"/></g>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

