/**
 * One self-contained HTML report: inline CSS, inline SVG, no scripts, no network. A
 * Content-Security-Policy meta tag forbids every fetch and every script, as a second line of
 * defence behind escaping: every string that comes from a manifest, spec, prompt or message goes
 * through `escapeHtml` (which also strips ANSI escapes and control characters).
 *
 * The report JSON is embedded in `<script type="application/json" id="numgate-report">` with
 * `<`, `>`, `&`, U+2028 and U+2029 written as \u escapes, so no string can close the element.
 */
import { gateUnit } from "../gates/registry.ts";
import { html, verdictBadge as badge, verdictLabel, type SafeHtml } from "../render/html.ts";
import { escapeHtml as h, formatSeconds, formatThresholds } from "../render/text.ts";
import type { ErrorEvidence, Evidence, PromptResult, Report, Run, Rung, Verdict } from "./schema.ts";

export { layerChartSvg } from "../gates/layers/chart.ts";

export interface HtmlOptions {
  /** Page title; default "numgate report". */
  title?: string;
  /** Embed the report JSON (default true). */
  embedJson?: boolean;
}

export function verdictBadge(v: Verdict, tag: "span" | "td" = "span"): string {
  return badge(v, tag).text;
}

export const REPORT_CSS = `
:root{--fg:#1b1f24;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--err:#9a6700;--err-bg:#fff8c5;--skip:#59636e;--skip-bg:#eaeef2;--accent:#0969da}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:16px 24px 48px;max-width:1280px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}h3{font-size:15px;margin:18px 0 6px}h4{font-size:13px;margin:12px 0 4px}
code,.mono,td.num,td.n,.tok{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
table{border-collapse:collapse;margin:6px 0 10px}th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}th{background:var(--panel);font-weight:600}
td.num,td.n,table.layers td{text-align:right;white-space:nowrap}table.layers td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
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
type TokenNamer = (id: number | undefined) => SafeHtml;
function tokenNamer(run: Run): TokenNamer {
  return (id) => {
    if (id === undefined) return html`—`;
    const name = run.token_names?.[String(id)];
    return name === undefined ? html`${id}` : html`${id} <span class="tok">${name}</span>`;
  };
}

// ---------------------------------------------------------------------------------------------
// Evidence: each gate kind renders its own (src/gates/<kind>/render.ts); errors are rendered here.

function errorHtml(ev: ErrorEvidence): SafeHtml {
  return html`<div class="err">${ev.detail}${ev.tensor === undefined ? "" : html`\ntensor: <code>${ev.tensor}</code>`}${ev.layer === undefined ? "" : html`\nlayer: ${ev.layer}`}</div>`;
}

function evidenceHtml(rung: Rung, ev: Evidence, token: TokenNamer): string {
  if (ev.kind === "error") return errorHtml(ev).text;
  return gateUnit(ev.kind).render.html(ev, { thresholds: rung.thresholds, units: rung.units, token }).text;
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
          return `<td class="verdict v-${rung.verdict}" data-verdict="${rung.verdict}" data-rung="${h(rung.id)}" title="${h(rung.message)}"><a href="#${anchor(ri, gi)}">${verdictLabel(rung.verdict)}</a></td>`;
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
    (run.backend === undefined ? "" : `<dt>backend</dt><dd>${h(run.backend)}</dd>`) +
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
    // Rows rendered with an empty class attribute (a passing row) lose it: a large report has
    // thousands. Text never holds it: escaping writes a quote in text as &quot;.
    report.runs.map((run, ri) => runHtml(run, ri)).join("").replaceAll(' class=""', "") +
    envHtml(report) +
    (opts.embedJson === false ? "" : `\n<script type="application/json" id="numgate-report">${embedJson(report)}</script>`);
  const meta = report.run_id === undefined ? "" : `<meta name="numgate-run-id" content="${h(report.run_id)}">\n`;
  return htmlPage(`${title}: ${summaryLine(report)}`, body, meta);
}
