/**
 * One self-contained HTML report: inline CSS, inline SVG, no scripts, no network. A
 * Content-Security-Policy meta tag forbids every fetch and every script, as a second line of
 * defence behind escaping: every string that comes from a manifest, spec, prompt or message goes
 * through `escapeHtml` (which also strips ANSI escapes and control characters).
 *
 * The report JSON is embedded in `<script type="application/json" id="numgate-report">` with
 * `<`, `>`, `&`, U+2028 and U+2029 written as \u escapes, so no string can close the element.
 */
import type {
  Evidence,
  GreedyEvidence,
  LayerRow,
  LayersEvidence,
  PositionsEvidence,
  PromptResult,
  Report,
  Run,
  Rung,
  TeacherForcedEvidence,
  Verdict,
  VisionEvidence,
} from "./schema.ts";
import { escapeHtml as h, formatCos, formatNum, formatSeconds, formatThresholds } from "./text.ts";

export interface HtmlOptions {
  /** Page title; default "numgate report". */
  title?: string;
  /** Embed the report JSON (default true). */
  embedJson?: boolean;
}

const VERDICT_LABEL: Record<Verdict, string> = { pass: "✓ pass", fail: "✗ FAIL", error: "! ERROR", skipped: "– skipped" };

export function verdictBadge(v: Verdict, tag: "span" | "td" = "span"): string {
  return `<${tag} class="verdict v-${v}" data-verdict="${v}">${VERDICT_LABEL[v]}</${tag}>`;
}

export const REPORT_CSS = `
:root{--fg:#1b1f24;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--err:#9a6700;--err-bg:#fff8c5;--skip:#59636e;--skip-bg:#eaeef2;--accent:#0969da}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:16px 24px 48px;max-width:1280px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}h3{font-size:15px;margin:18px 0 6px}h4{font-size:13px;margin:12px 0 4px}
code,.mono,td.num,.tok{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
table{border-collapse:collapse;margin:6px 0 10px}th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}th{background:var(--panel);font-weight:600}
td.num{text-align:right;white-space:nowrap}
.verdict{font-weight:600;white-space:nowrap;border-radius:4px;padding:1px 6px}
span.verdict{display:inline-block}
.v-pass{color:var(--pass);background:var(--pass-bg)}.v-fail{color:var(--fail);background:var(--fail-bg)}.v-error{color:var(--err);background:var(--err-bg)}.v-skipped{color:var(--skip);background:var(--skip-bg)}
tr.bad td{background:var(--fail-bg)}tr.first-divergence td{background:#ffd8d3;font-weight:600}tr.waived td{background:var(--err-bg)}
.muted{color:var(--muted)}.tok{color:var(--muted);margin-left:.3em}.msg{margin:4px 0}
.rung{border:1px solid var(--line);border-radius:6px;padding:4px 14px 10px;margin:12px 0}
.rung.r-fail,.rung.r-error{border-left:4px solid var(--fail)}.rung.r-error{border-left-color:var(--err)}
details{margin:8px 0}summary{cursor:pointer}summary .prompt{font-family:ui-monospace,monospace;background:var(--panel);padding:0 4px;border-radius:3px;white-space:pre-wrap;word-break:break-all}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
.chart{max-width:100%;height:auto;background:#fff;border:1px solid var(--line);border-radius:4px}
.chart .grid{stroke:#eaeef2}.chart .axis{stroke:#8c959f}.chart text{font:11px system-ui,sans-serif;fill:#59636e}
.chart .thr{stroke:var(--fail);stroke-dasharray:6 4;stroke-width:1.2}.chart .thr-worst{stroke:#bc4c00;stroke-dasharray:2 3}
.chart .line-cos{fill:none;stroke:var(--accent);stroke-width:1.5}.chart .line-worst{fill:none;stroke:#8250df;stroke-width:1;stroke-dasharray:3 2}.chart .line-iso{fill:none;stroke:#1a7f37;stroke-width:1}
.chart .cos-marker{fill:var(--accent)}.chart .worst-marker{fill:#8250df}.chart .isolated-marker{fill:#1a7f37}
.chart .failing.cos-marker,.chart .failing.worst-marker{fill:var(--fail)}.chart .fail-band{fill:var(--fail-bg)}
.legend{font-size:12px;color:var(--muted)}.legend i{display:inline-block;width:10px;height:10px;border-radius:50%;margin:0 4px 0 10px;vertical-align:-1px}
.ladder td.verdict{text-align:center}.ladder a{color:inherit}
.err{background:var(--err-bg);border:1px solid #d4a72c;border-radius:4px;padding:6px 10px;white-space:pre-wrap}
.tok{white-space:nowrap}.diffcell{font-weight:700;color:var(--fail)}
.small{font-size:12px}
`;

/** A complete page around `body`, with the strict CSP and shared CSS. */
export function htmlPage(title: string, body: string, extraHead = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="numgate">
<title>${h(title)}</title>
<style>${REPORT_CSS}</style>
${extraHead}</head>
<body>
${body}
</body>
</html>
`;
}

/** JSON for a `<script type="application/json">` element: nothing in it can end the element. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const td = (s: string, cls = ""): string => `<td${cls ? ` class="${cls}"` : ""}>${s}</td>`;
const tdNum = (s: string): string => `<td class="num">${s}</td>`;

/** A token id with its vocabulary name (when the run carries names), both escaped. */
type TokenNamer = (id: number | undefined) => string;
function tokenNamer(run: Run): TokenNamer {
  return (id) => {
    if (id === undefined) return "—";
    const name = run.token_names?.[String(id)];
    return name === undefined ? String(id) : `${id} <span class="tok">${h(name)}</span>`;
  };
}

function unitOf(rung: Rung, key: string, fallback = ""): string {
  return rung.units[key] ?? fallback;
}

// ---------------------------------------------------------------------------------------------
// Layer chart: log10(1 - cos), so 0.9999 and 0.99999 are a decade apart.

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
  // failing-layer bands behind everything
  const bandW = n === 1 ? pw : pw / (n - 1);
  layers.forEach((l, i) => {
    if (l.verdict !== "pass") parts.push(`<rect class="fail-band" x="${r1(xOf(i) - bandW / 2)}" y="${m.t}" width="${r1(bandW)}" height="${ph}"/>`);
  });
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
  // markers: exactly one cos marker per layer
  layers.forEach((l, i) => {
    const x = r1(xOf(i));
    const failing = l.verdict !== "pass" ? " failing" : "";
    const tip = h(
      `layer ${l.layer}: cos ${formatCos(l.cos)}, worst row ${formatCos(l.cos_worst_row)} (token ${l.worst_token})` +
        (l.isolated_cos === undefined ? "" : `, isolated ${formatCos(l.isolated_cos)}`) +
        `, ${l.verdict}`,
    );
    const yw = r1(yOf(gap(l.cos_worst_row)));
    parts.push(`<rect class="worst-marker${failing}" x="${r1(xOf(i) - 3)}" y="${r1(Number(yw) - 3)}" width="6" height="6" transform="rotate(45 ${x} ${yw})"><title>${tip}</title></rect>`);
    if (l.isolated_cos !== undefined) {
      const yi = yOf(gap(l.isolated_cos));
      parts.push(`<path class="isolated-marker${failing}" d="M${r1(xOf(i))} ${r1(yi - 4)}l4 7h-8z"><title>${tip}</title></path>`);
    }
    parts.push(
      `<circle class="marker cos-marker${failing}${l.cos === null ? " nan" : ""}" data-layer="${l.layer}" cx="${x}" cy="${r1(yOf(gap(l.cos)))}" r="${failing ? 4.5 : 3.5}"><title>${tip}</title></circle>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}

// ---------------------------------------------------------------------------------------------
// Evidence renderers

function layersHtml(rung: Rung, ev: LayersEvidence): string {
  const ff = ev.first_failing;
  const fi = ev.first_failing_isolated;
  const hasIso = ev.layers.some((l) => l.isolated_cos !== undefined);
  const rows = ev.layers
    .map(
      (l) =>
        `<tr class="${l.verdict === "pass" ? "" : "bad"}${ff?.layer === l.layer ? " first-divergence" : ""}" data-layer="${l.layer}">` +
        tdNum(String(l.layer)) +
        tdNum(formatCos(l.cos)) +
        tdNum(formatCos(l.cos_worst_row)) +
        tdNum(String(l.worst_token)) +
        tdNum(formatNum(l.max_abs)) +
        tdNum(formatNum(l.rel_l2)) +
        (hasIso ? tdNum(formatCos(l.isolated_cos)) : "") +
        verdictBadge(l.verdict, "td") +
        "</tr>",
    )
    .join("");
  return (
    `<p class="msg">Mode: <b>${h(ev.mode)}</b>.` +
    (ff ? ` First failing layer <b>${ff.layer}</b>, token <b>${ff.token}</b>, cos ${formatCos(ff.cos)}.` : "") +
    (fi ? ` First failing layer in isolation <b>${fi.layer}</b>, token <b>${fi.token}</b>, cos ${formatCos(fi.cos)}.` : "") +
    `</p>` +
    layerChartSvg(ev, rung.thresholds) +
    `<div class="legend"><i style="background:#0969da"></i>cos (whole tensor)<i style="background:#8250df;border-radius:0"></i>worst-row cos` +
    (hasIso ? `<i style="background:#1a7f37"></i>isolated cos` : "") +
    `<i style="background:#cf222e"></i>failing layer; dashed line: threshold</div>` +
    `<table class="layers"><thead><tr><th>layer</th><th>cos</th><th>worst-row cos</th><th>worst token</th><th>max abs</th><th>rel L2</th>${hasIso ? "<th>isolated cos</th>" : ""}<th>verdict</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

function visionHtml(ev: VisionEvidence): string {
  const rows = ev.tensors
    .map(
      (t) =>
        `<tr class="${t.verdict === "pass" ? "" : "bad"}">` +
        td(`<code>${h(t.name)}</code>`) +
        tdNum(String(t.rows)) +
        tdNum(formatCos(t.cos)) +
        tdNum(formatCos(t.cos_worst_row)) +
        tdNum(String(t.worst_row)) +
        tdNum(formatNum(t.max_abs)) +
        tdNum(formatNum(t.rel_l2)) +
        verdictBadge(t.verdict, "td") +
        "</tr>",
    )
    .join("");
  return `<table class="vision"><thead><tr><th>tensor</th><th>rows</th><th>cos</th><th>worst-row cos</th><th>worst row</th><th>max abs</th><th>rel L2</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function positionsHtml(ev: PositionsEvidence, tok: TokenNamer): string {
  const checks = ev.checks
    .map(
      (c) =>
        `<tr class="${c.mismatches > 0 ? "bad" : ""}">` +
        td(`<code>${h(c.name)}</code>`) +
        tdNum(String(c.compared)) +
        tdNum(String(c.mismatches)) +
        td(c.expressible ? "yes" : "no") +
        td(c.first ? `token ${c.first.token}, plane <b>${c.first.plane}</b>: expected ${c.first.expected}, actual ${c.first.actual}` : "—") +
        td(c.note === undefined ? "" : h(c.note), "small") +
        "</tr>",
    )
    .join("");
  let out = `<table class="positions-checks"><thead><tr><th>check</th><th>compared</th><th>mismatches</th><th>expressible</th><th>first mismatch</th><th>note</th></tr></thead><tbody>${checks}</tbody></table>`;
  for (const c of ev.checks) {
    if (c.rows.length === 0) continue;
    const cell = (e: readonly number[], a: readonly number[], k: number, which: "e" | "a"): string => {
      const v = which === "e" ? e[k] : a[k];
      return `<td class="num${e[k] !== a[k] ? " diffcell" : ""}">${v ?? ""}</td>`;
    };
    const rows = c.rows
      .map(
        (r) =>
          `<tr>${tdNum(String(r.token))}${tdNum(tok(r.token_id))}` +
          [0, 1, 2].map((k) => cell(r.expected, r.actual, k, "e")).join("") +
          [0, 1, 2].map((k) => cell(r.expected, r.actual, k, "a")).join("") +
          "</tr>",
      )
      .join("");
    out +=
      `<h4>Mismatches: <code>${h(c.name)}</code> (${c.rows.length} shown of ${c.mismatches})</h4>` +
      `<table class="positions-mismatches" data-check="${h(c.name)}"><thead><tr><th rowspan="2">token</th><th rowspan="2">token id</th><th colspan="3">expected (t, h, w)</th><th colspan="3">actual (t, h, w)</th></tr>` +
      `<tr><th>t</th><th>h</th><th>w</th><th>t</th><th>h</th><th>w</th></tr></thead><tbody>${rows}</tbody></table>`;
  }
  return out;
}

function teacherForcedHtml(rung: Rung, ev: TeacherForcedEvidence, tok: TokenNamer): string {
  const marginUnit = unitOf(rung, "margin", "logits");
  const klUnit = unitOf(rung, "kl", "");
  const first = ev.steps.find((s) => !s.match);
  const rows = ev.steps
    .map((s) => {
      const cls = s === first ? "first-divergence" : !s.match ? (s.waived ? "waived" : "bad") : "";
      return (
        `<tr class="${cls}" data-step="${s.step}">` +
        tdNum(String(s.step)) +
        tdNum(tok(s.oracle_token)) +
        tdNum(tok(s.candidate_token)) +
        td(s.match ? "✓" : "✗") +
        tdNum(formatNum(s.oracle_margin)) +
        tdNum(formatNum(s.kl)) +
        tdNum(formatNum(s.topk_overlap)) +
        td(s.near_tie ? "near tie" : "") +
        td(s.waived ? "waived" : "") +
        "</tr>"
      );
    })
    .join("");
  return (
    `<p class="msg"><b>${ev.matches}/${ev.total}</b> top-1 matches; ${ev.near_tie_flips} near-tie flip(s); min oracle margin ${formatNum(ev.min_oracle_margin)} ${h(marginUnit)}; top-k k=${ev.k}.` +
    (first ? ` First divergence at step <b>${first.step}</b>: oracle ${tok(first.oracle_token)}, candidate ${tok(first.candidate_token)}, margin ${formatNum(first.oracle_margin)} ${h(marginUnit)}.` : "") +
    `</p><table class="tf-steps"><thead><tr><th>step</th><th>oracle token</th><th>candidate token</th><th>match</th><th>oracle margin (${h(marginUnit)})</th><th>KL${klUnit ? ` (${h(klUnit)})` : ""}</th><th>top-${ev.k} overlap</th><th>near tie</th><th>waived</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

function greedyHtml(rung: Rung, ev: GreedyEvidence, tok: TokenNamer): string {
  const marginUnit = unitOf(rung, "margin", "logits");
  const n = Math.max(ev.oracle_tokens.length, ev.candidate_tokens.length);
  const fd = ev.first_divergence;
  let firstStep = fd?.step;
  if (firstStep === undefined) {
    for (let i = 0; i < n; i++) if (ev.oracle_tokens[i] !== ev.candidate_tokens[i]) { firstStep = i; break; }
  }
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const o = ev.oracle_tokens[i];
    const c = ev.candidate_tokens[i];
    const same = o === c;
    rows.push(
      `<tr class="${i === firstStep ? "first-divergence" : same ? "" : "bad"}" data-step="${i}">${tdNum(String(i))}${tdNum(tok(o))}${tdNum(tok(c))}${td(same ? "✓" : "✗")}${tdNum(i === fd?.step ? formatNum(fd.oracle_margin) : "")}</tr>`,
    );
  }
  return (
    `<p class="msg"><b>${ev.matches}/${ev.total}</b> tokens match` +
    (ev.tolerance ? ` (tolerance ${h(ev.tolerance)}${ev.k === undefined ? "" : `, k=${ev.k}`})` : "") +
    "." +
    (fd ? ` First divergence at step <b>${fd.step}</b>: oracle ${tok(fd.oracle_token)}, candidate ${tok(fd.candidate_token)}, oracle margin ${formatNum(fd.oracle_margin)} ${h(marginUnit)}.` : "") +
    `</p><table class="greedy-tokens"><thead><tr><th>step</th><th>oracle</th><th>candidate</th><th>match</th><th>oracle margin (${h(marginUnit)})</th></tr></thead><tbody>${rows.join("")}</tbody></table>`
  );
}

function evidenceHtml(rung: Rung, ev: Evidence, tok: TokenNamer): string {
  switch (ev.kind) {
    case "layers":
      return layersHtml(rung, ev);
    case "vision":
      return visionHtml(ev);
    case "positions":
      return positionsHtml(ev, tok);
    case "seeded_decode":
      return (
        `<p class="msg">Seeded with the oracle's prefill cache (${ev.cache_length} tokens), fed ${tok(ev.fed_token)} at position (${ev.position.join(", ")}): ` +
        `logits cos <b>${formatCos(ev.logits_cos)}</b>, KL ${formatNum(ev.kl)} nats; top-1 oracle ${tok(ev.oracle_top1)}, candidate ${tok(ev.candidate_top1)} ${ev.match ? "✓" : "✗"}; oracle margin ${formatNum(ev.oracle_margin)} logits.</p>`
      );
    case "teacher_forced":
      return teacherForcedHtml(rung, ev, tok);
    case "greedy":
      return greedyHtml(rung, ev, tok);
    case "error":
      return (
        `<div class="err">${h(ev.detail)}` +
        (ev.tensor === undefined ? "" : `\ntensor: <code>${h(ev.tensor)}</code>`) +
        (ev.layer === undefined ? "" : `\nlayer: ${ev.layer}`) +
        "</div>"
      );
  }
}

function promptHtml(rung: Rung, p: PromptResult, tok: TokenNamer): string {
  return (
    `<details class="prompt-result" open data-verdict="${p.verdict}"><summary>${verdictBadge(p.verdict)} <span class="prompt">${h(p.prompt)}</span> — ${h(p.message)}</summary>` +
    evidenceHtml(rung, p.evidence, tok) +
    "</details>"
  );
}

const anchor = (ri: number, gi?: number): string => (gi === undefined ? `run-${ri}` : `run-${ri}-rung-${gi}`);

function rungHtml(run: Run, rung: Rung, ri: number, gi: number): string {
  const thr = Object.keys(rung.thresholds).length ? formatThresholds(rung.thresholds) : "none";
  const units = Object.entries(rung.units)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  let out =
    `<section class="rung r-${rung.verdict}" id="${anchor(ri, gi)}" data-run="${h(run.id)}" data-rung="${h(rung.id)}" data-verdict="${rung.verdict}">` +
    `<h3>${verdictBadge(rung.verdict)} <code>${h(rung.id)}</code> — ${h(rung.title)} <span class="muted small">(${h(rung.kind)}, ${formatSeconds(rung.duration_s)} s)</span></h3>` +
    `<p class="msg rung-message">${h(rung.message)}</p>` +
    `<p class="small muted">thresholds: <span class="mono">${h(thr)}</span>` +
    (units ? ` · units: ${h(units)}` : "") +
    (rung.depends_on.length ? ` · depends on: ${rung.depends_on.map((d) => `<code>${h(d)}</code>`).join(", ")}` : "") +
    "</p>";
  if (rung.skip_reason !== undefined) out += `<p class="msg">Skipped: ${h(rung.skip_reason)}</p>`;
  if (rung.error) {
    const e = rung.error;
    out +=
      `<div class="err"><b>${h(e.code)}</b>: ${h(e.message)}` +
      (e.file === undefined ? "" : `\nfile: <code>${h(e.file)}</code>`) +
      (e.field === undefined ? "" : `\nfield: <code>${h(e.field)}</code>`) +
      "</div>";
  }
  const tok = tokenNamer(run);
  out += rung.prompts.map((p) => promptHtml(rung, p, tok)).join("");
  return `${out}</section>`;
}

function ladderHtml(report: Report): string {
  const cols: string[] = [];
  for (const run of report.runs) for (const r of run.rungs) if (!cols.includes(r.id)) cols.push(r.id);
  const head = `<tr><th>run</th><th>verdict</th>${cols.map((c) => `<th><code>${h(c)}</code></th>`).join("")}<th>time (s)</th></tr>`;
  const body = report.runs
    .map((run, ri) => {
      const cells = cols
        .map((c) => {
          const gi = run.rungs.findIndex((r) => r.id === c);
          const rung = run.rungs[gi];
          if (rung === undefined) return `<td class="muted">—</td>`;
          return `<td class="verdict v-${rung.verdict}" data-verdict="${rung.verdict}" data-rung="${h(rung.id)}" title="${h(rung.message)}"><a href="#${anchor(ri, gi)}">${VERDICT_LABEL[rung.verdict]}</a></td>`;
        })
        .join("");
      return `<tr data-run="${h(run.id)}"><th><a href="#${anchor(ri)}">${h(run.id)}</a></th>${verdictBadge(run.verdict, "td")}${cells}${tdNum(formatSeconds(run.duration_s))}</tr>`;
    })
    .join("");
  return `<section id="ladder"><h2>Ladder at a glance</h2><table class="ladder"><thead>${head}</thead><tbody>${body}</tbody></table></section>`;
}

function runHtml(run: Run, ri: number): string {
  const files = run.files
    .map((f) => `<tr>${td(`<code>${h(f.path)}</code>`)}${td(h(f.role))}${td(`<code class="small">${h(f.sha256)}</code>`)}</tr>`)
    .join("");
  return (
    `<section class="run" id="${anchor(ri)}" data-run="${h(run.id)}"><h2>${verdictBadge(run.verdict)} ${h(run.id)}</h2>` +
    `<dl class="kv"><dt>model</dt><dd>${h(run.model)}</dd><dt>candidate</dt><dd>${h(run.candidate)}</dd>` +
    `<dt>gate spec</dt><dd><code>${h(run.spec_file)}</code></dd><dt>ladder</dt><dd>${h(run.ladder)} (<code>${h(run.ladder_file)}</code>)</dd>` +
    `<dt>oracle</dt><dd><code>${h(run.oracle.dir)}</code> — ${h(run.oracle.source)}; transformers ${h(run.oracle.transformers)}, torch ${h(run.oracle.torch)}</dd>` +
    `<dt>duration</dt><dd>${formatSeconds(run.duration_s)} s</dd></dl>` +
    (run.error === undefined ? "" : `<p class="setup-error"><strong>could not start:</strong> <code>${h(run.error.code)}</code> ${h(run.error.message)}</p>`) +
    run.rungs.map((r, gi) => rungHtml(run, r, ri, gi)).join("") +
    `<details class="files"><summary>Files and SHA-256 (${run.files.length})</summary><table><thead><tr><th>path</th><th>role</th><th>sha256</th></tr></thead><tbody>${files}</tbody></table></details>` +
    "</section>"
  );
}

function envHtml(report: Report): string {
  const e = report.environment;
  return (
    `<section id="environment"><h2>Environment</h2><dl class="kv">` +
    `<dt>numgate</dt><dd>${h(e.numgate)}</dd><dt>node</dt><dd>${h(e.node)}</dd><dt>onnxruntime</dt><dd>${h(e.onnxruntime ?? "none")}</dd>` +
    `<dt>platform</dt><dd>${h(e.platform)}</dd><dt>generated</dt><dd>${h(report.generated_at)}</dd>` +
    (report.run_id === undefined ? "" : `<dt>run id</dt><dd><code>${h(report.run_id)}</code></dd>`) +
    `<dt>schema</dt><dd>${h(report.schema)} v${report.version}</dd></dl></section>`
  );
}

function summaryLine(report: Report): string {
  const c = { pass: 0, fail: 0, error: 0 };
  for (const r of report.runs) c[r.verdict]++;
  return `${report.runs.length} run(s): ${c.pass} pass, ${c.fail} fail, ${c.error} error`;
}

/** The run id in the header: a reader comparing this page with report.json and junit.xml sees it first. */
function runIdNote(report: Report): string {
  return report.run_id === undefined ? "" : ` · run id <code id="run-id">${h(report.run_id)}</code>`;
}

/** Renders the whole report as one self-contained HTML document. */
export function renderHtml(report: Report, opts: HtmlOptions = {}): string {
  const title = opts.title ?? "numgate report";
  const body =
    `<header><h1>${h(title)}</h1><p class="muted" id="summary">${h(summaryLine(report))} · generated ${h(report.generated_at)}${runIdNote(report)}</p></header>` +
    ladderHtml(report) +
    report.runs.map((run, ri) => runHtml(run, ri)).join("") +
    envHtml(report) +
    (opts.embedJson === false ? "" : `\n<script type="application/json" id="numgate-report">${embedJson(report)}</script>`);
  const meta = report.run_id === undefined ? "" : `<meta name="numgate-run-id" content="${h(report.run_id)}">\n`;
  return htmlPage(`${title}: ${summaryLine(report)}`, body, meta);
}
