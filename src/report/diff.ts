/**
 * What changed between two reports (a committed baseline and a new run).
 *
 * Runs match by id, rungs by id, prompts by prompt text (nth occurrence), layers by layer index,
 * vision tensors by name, token steps by step.
 *
 * REGRESSION, the condition `numgate diff` exits 1 on, is either
 *   1. a verdict that went from "pass" to "fail" or "error", at run, rung or prompt level; or
 *   2. a cosine (vision tensor cos / cos_worst_row, layer cos / cos_worst_row / isolated_cos) that
 *      dropped by more than `cosTolerance`, ABSOLUTE on cos (default 1e-6: base.cos - head.cos >
 *      1e-6), or that became undefined (null) where the base had a value.
 * Everything else (improvements, new or removed runs/rungs/prompts, pass -> skipped, threshold
 * edits, token changes that keep the verdict) is reported as a change, not a regression. Two
 * identical reports give no changes at all.
 *
 * Which values of a kind's evidence are compared is the kind's own diff hook
 * (src/gates/<kind>/unit.ts); a kind without one is listed as "not compared", with its reason.
 */
import { Chalk, type ChalkInstance } from "chalk";
import { gateUnit, isGateKind, type GateEvidence, type GateKind } from "../gates/registry.ts";
import { hasHook, type DiffRecorder, type GateUnit, type LayerSide, type TokenSequence } from "../gates/unit.ts";
import { pairBy } from "../render/pair.ts";
import { escapeHtml as h, formatCos, formatDelta, formatNum, oneLine } from "../render/text.ts";
import { htmlPage, verdictBadge } from "./html.ts";
import type { Evidence, PromptResult, Report, Run, Rung, RungKind, Verdict } from "./schema.ts";

export const DEFAULT_COS_TOLERANCE = 1e-6;

export interface DiffOptions {
  /** Absolute tolerance on a cosine drop before it counts as a regression (default 1e-6). */
  cosTolerance?: number;
  /** Where a rung kind's diff hook is looked up (default: the gate registry). */
  unitOf?: UnitLookup;
}

type UnitLookup = (kind: GateKind) => GateUnit<GateEvidence>;

export type Presence = "both" | "added" | "removed";

export interface VerdictChange {
  base: Verdict | null;
  head: Verdict | null;
  changed: boolean;
  /** pass -> fail/error */
  regression: boolean;
}

export interface ThresholdRef {
  name: string;
  value: number;
  base_ok: boolean | null;
  head_ok: boolean | null;
}

export interface MetricDelta {
  /** "summary", "layer 3", a tensor name, a positions check name. */
  scope: string;
  metric: string;
  base: number | null;
  head: number | null;
  /** head - base, null when either is missing. */
  delta: number | null;
  threshold?: ThresholdRef;
  regression: boolean;
}

export interface LayerDelta {
  layer: number;
  metric: "cos" | "cos_worst_row" | "isolated_cos";
  base: number | null;
  head: number | null;
  delta: number | null;
  threshold?: ThresholdRef;
  verdict: VerdictChange;
  regression: boolean;
}

export interface TokenRow {
  step: number;
  base_oracle: number | null;
  base_candidate: number | null;
  head_oracle: number | null;
  head_candidate: number | null;
  changed: boolean;
}

export interface TokenSequences {
  kind: RungKind;
  base_first_divergence: number | null;
  head_first_divergence: number | null;
  rows: TokenRow[];
}

export interface PromptDiff {
  prompt: string;
  presence: Presence;
  verdict: VerdictChange;
  message: { base: string | null; head: string | null };
  /** Only metrics whose value changed. */
  metrics: MetricDelta[];
  /** Only layer metrics whose value changed. */
  layers: LayerDelta[];
  /** Present when the token sequences differ between base and head. */
  tokens?: TokenSequences;
  regression: boolean;
  reasons: string[];
}

export interface ThresholdChange {
  name: string;
  base: number | null;
  head: number | null;
}

export interface RungDiff {
  id: string;
  kind: RungKind;
  presence: Presence;
  verdict: VerdictChange;
  message: { base: string | null; head: string | null };
  thresholds: ThresholdChange[];
  /** Only prompts with a change. */
  prompts: PromptDiff[];
  /** Set when this rung kind's evidence has no diff hook: only verdicts and messages were compared. */
  not_compared?: string;
  changed: boolean;
  regression: boolean;
  reasons: string[];
}

export interface RunDiff {
  id: string;
  presence: Presence;
  verdict: VerdictChange;
  /** Only rungs with a change, and rungs whose evidence could not be compared. */
  rungs: RungDiff[];
  changed: boolean;
  regression: boolean;
  reasons: string[];
}

export interface ReportDiff {
  cosTolerance: number;
  base: { generated_at: string; runs: number };
  head: { generated_at: string; runs: number };
  /** Only runs with a change, or with a rung whose evidence could not be compared. */
  runs: RunDiff[];
  changes: number;
  regression: boolean;
  /** One human-readable line per regression: `run / rung [prompt]: reason`. */
  regressions: string[];
}

function verdictChange(base: Verdict | null, head: Verdict | null): VerdictChange {
  return {
    base,
    head,
    changed: base !== head,
    regression: base === "pass" && (head === "fail" || head === "error"),
  };
}

const delta = (b: number | null, a: number | null): number | null => (b === null || a === null ? null : a - b);

class Ctx {
  constructor(
    readonly tol: number,
    readonly thresholds: Readonly<Record<string, number>>,
    readonly unitOf: UnitLookup,
  ) {}

  threshold(metric: string, b: number | null, a: number | null): ThresholdRef | undefined {
    const min = this.thresholds[`min_${metric}`];
    if (min !== undefined) return { name: `min_${metric}`, value: min, base_ok: b === null ? null : b >= min, head_ok: a === null ? null : a >= min };
    const max = this.thresholds[`max_${metric}`];
    if (max !== undefined) return { name: `max_${metric}`, value: max, base_ok: b === null ? null : b <= max, head_ok: a === null ? null : a <= max };
    return undefined;
  }

  cosRegression(b: number | null | undefined, a: number | null | undefined): boolean {
    if (b === null || b === undefined) return false;
    if (a === null) return true;
    if (a === undefined) return false;
    return b - a > this.tol;
  }
}

const COS_METRICS = new Set(["cos", "cos_worst_row", "isolated_cos", "logits_cos"]);

function metric(ctx: Ctx, scope: string, name: string, b: number | null | undefined, a: number | null | undefined, out: MetricDelta[]): void {
  const bv = b ?? null;
  const av = a ?? null;
  if (bv === av) return;
  const thr = ctx.threshold(name, bv, av);
  out.push({
    scope,
    metric: name,
    base: bv,
    head: av,
    delta: delta(bv, av),
    ...(thr ? { threshold: thr } : {}),
    regression: COS_METRICS.has(name) && ctx.cosRegression(b, a),
  });
}

/** Records what a kind's diff hook compares into one prompt's deltas. */
class Recorder implements DiffRecorder {
  readonly metrics: MetricDelta[] = [];
  readonly layers: LayerDelta[] = [];
  tokenSequences: TokenSequences | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly kind: RungKind,
  ) {}

  metric(scope: string, name: string, base: number | null | undefined, head: number | null | undefined): void {
    metric(this.ctx, scope, name, base, head, this.metrics);
  }

  layer(layer: number, m: LayerDelta["metric"], base: LayerSide | undefined, head: LayerSide | undefined): void {
    const vc = verdictChange(base?.verdict ?? null, head?.verdict ?? null);
    const bv = base?.value ?? null;
    const av = head?.value ?? null;
    if (bv === av && !(m === "cos" && vc.changed)) return;
    const thr = this.ctx.threshold(m, bv, av);
    this.layers.push({
      layer,
      metric: m,
      base: bv,
      head: av,
      delta: delta(bv, av),
      ...(thr ? { threshold: thr } : {}),
      verdict: vc,
      // a layer removed from head is a change, not a regression; a metric that became null is one
      regression: this.ctx.cosRegression(base?.value, head === undefined ? undefined : (head.value ?? null)),
    });
  }

  tokens(sb: TokenSequence | undefined, sa: TokenSequence | undefined): void {
    if (sb === undefined && sa === undefined) return;
    const n = Math.max(sb?.oracle.length ?? 0, sb?.candidate.length ?? 0, sa?.oracle.length ?? 0, sa?.candidate.length ?? 0);
    const rows: TokenRow[] = [];
    let any = false;
    for (let i = 0; i < n; i++) {
      const r: TokenRow = {
        step: i,
        base_oracle: sb?.oracle[i] ?? null,
        base_candidate: sb?.candidate[i] ?? null,
        head_oracle: sa?.oracle[i] ?? null,
        head_candidate: sa?.candidate[i] ?? null,
        changed: false,
      };
      r.changed = r.base_oracle !== r.head_oracle || r.base_candidate !== r.head_candidate;
      any ||= r.changed;
      rows.push(r);
    }
    if (any) this.tokenSequences = { kind: this.kind, base_first_divergence: sb?.firstDivergence ?? null, head_first_divergence: sa?.firstDivergence ?? null, rows };
  }
}

function promptDiff(ctx: Ctx, kind: RungKind, b: PromptResult | undefined, a: PromptResult | undefined): PromptDiff {
  const rec = new Recorder(ctx, kind);
  const eb = b?.evidence;
  const ea = a?.evidence;
  const kinds = new Set([eb?.kind, ea?.kind].filter((k): k is Exclude<Evidence["kind"], "error"> => k !== undefined && k !== "error"));
  for (const k of kinds) {
    const diff = ctx.unitOf(k).diff;
    if (hasHook(diff)) diff.compare(rec, eb?.kind === k ? eb : undefined, ea?.kind === k ? ea : undefined);
  }
  const { metrics, layers } = rec;
  const tokens = rec.tokenSequences;
  const verdict = verdictChange(b?.verdict ?? null, a?.verdict ?? null);
  const reasons: string[] = [];
  if (verdict.regression) reasons.push(`verdict ${verdict.base} -> ${verdict.head}: ${oneLine(a?.message ?? "")}`);
  for (const m of metrics) if (m.regression) reasons.push(`${m.scope} ${m.metric} ${formatCos(m.base)} -> ${formatCos(m.head)} (${formatDelta(m.delta)})`);
  for (const l of layers) if (l.regression) reasons.push(`layer ${l.layer} ${l.metric} ${formatCos(l.base)} -> ${formatCos(l.head)} (${formatDelta(l.delta)})`);
  return {
    prompt: (a ?? b)?.prompt ?? "",
    presence: b === undefined ? "added" : a === undefined ? "removed" : "both",
    verdict,
    message: { base: b?.message ?? null, head: a?.message ?? null },
    metrics,
    layers,
    ...(tokens ? { tokens } : {}),
    regression: reasons.length > 0,
    reasons,
  };
}

const promptChanged = (p: PromptDiff): boolean =>
  p.presence !== "both" || p.verdict.changed || p.message.base !== p.message.head || p.metrics.length > 0 || p.layers.length > 0 || p.tokens !== undefined;

function rungDiff(tol: number, unitOf: UnitLookup, b: Rung | undefined, a: Rung | undefined): RungDiff {
  const r = (a ?? b) as Rung;
  const ctx = new Ctx(tol, a?.thresholds ?? b?.thresholds ?? {}, unitOf);
  const prompts = pairBy(b?.prompts ?? [], a?.prompts ?? [], (p) => p.prompt)
    .map((p) => promptDiff(ctx, r.kind, p.base, p.head))
    .filter(promptChanged);
  const thresholds: ThresholdChange[] = [];
  const names = [...new Set([...Object.keys(b?.thresholds ?? {}), ...Object.keys(a?.thresholds ?? {})])].sort();
  for (const n of names) {
    const bv = b?.thresholds[n] ?? null;
    const av = a?.thresholds[n] ?? null;
    if (bv !== av && b !== undefined && a !== undefined) thresholds.push({ name: n, base: bv, head: av });
  }
  const verdict = verdictChange(b?.verdict ?? null, a?.verdict ?? null);
  const reasons: string[] = [];
  if (verdict.regression) reasons.push(`verdict ${verdict.base} -> ${verdict.head}: ${oneLine(a?.message ?? "")}`);
  for (const p of prompts) for (const why of p.reasons) reasons.push(`[${oneLine(p.prompt)}] ${why}`);
  const presence: Presence = b === undefined ? "added" : a === undefined ? "removed" : "both";
  const diffHook = isGateKind(r.kind) ? unitOf(r.kind).diff : { none: `"${r.kind}" is not a gate kind this numgate knows` };
  return {
    id: r.id,
    kind: r.kind,
    presence,
    verdict,
    message: { base: b?.message ?? null, head: a?.message ?? null },
    thresholds,
    prompts,
    ...(hasHook(diffHook) ? {} : { not_compared: diffHook.none }),
    changed: presence !== "both" || verdict.changed || b?.message !== a?.message || thresholds.length > 0 || prompts.length > 0,
    regression: reasons.length > 0,
    reasons,
  };
}

function runDiff(tol: number, unitOf: UnitLookup, b: Run | undefined, a: Run | undefined): RunDiff {
  const r = (a ?? b) as Run;
  const rungs = pairBy(b?.rungs ?? [], a?.rungs ?? [], (g) => g.id)
    .map((p) => rungDiff(tol, unitOf, p.base, p.head))
    .filter((d) => d.changed || d.not_compared !== undefined);
  const verdict = verdictChange(b?.verdict ?? null, a?.verdict ?? null);
  const reasons: string[] = [];
  if (verdict.regression) reasons.push(`run verdict ${verdict.base} -> ${verdict.head}`);
  for (const g of rungs) for (const why of g.reasons) reasons.push(`${g.id} ${why}`);
  const presence: Presence = b === undefined ? "added" : a === undefined ? "removed" : "both";
  return { id: r.id, presence, verdict, rungs, changed: presence !== "both" || verdict.changed || rungs.some((g) => g.changed), regression: reasons.length > 0, reasons };
}

/** Structured diff of two reports. See the module comment for what counts as a regression. */
export function diffReports(base: Report, head: Report, opts: DiffOptions = {}): ReportDiff {
  const tol = opts.cosTolerance ?? DEFAULT_COS_TOLERANCE;
  if (!Number.isFinite(tol) || tol < 0) throw new RangeError(`cosTolerance must be a finite non-negative number, got ${tol}`);
  const runs = pairBy(base.runs, head.runs, (r) => r.id)
    .map((p) => runDiff(tol, opts.unitOf ?? gateUnit, p.base, p.head))
    .filter((r) => r.changed || r.rungs.length > 0);
  const regressions = runs.flatMap((r) => r.reasons.map((why) => `${r.id} ${why}`));
  let changes = 0;
  for (const r of runs) {
    if (r.presence !== "both" || r.verdict.changed) changes++;
    for (const g of r.rungs) {
      if (g.presence !== "both" || g.verdict.changed || g.message.base !== g.message.head) changes++;
      changes += g.thresholds.length;
      for (const p of g.prompts) changes += (p.presence !== "both" || p.verdict.changed ? 1 : 0) + p.metrics.length + p.layers.length + (p.tokens ? 1 : 0);
    }
  }
  return {
    cosTolerance: tol,
    base: { generated_at: base.generated_at, runs: base.runs.length },
    head: { generated_at: head.generated_at, runs: head.runs.length },
    runs,
    changes,
    regression: regressions.length > 0,
    regressions,
  };
}

/** True when the diff holds a regression (pass -> fail/error, or a cosine drop beyond tolerance). */
export function isRegression(diff: ReportDiff): boolean {
  return diff.regression;
}

// ---------------------------------------------------------------------------------------------
// Console

const V = (v: Verdict | null): string => v ?? "absent";

function fmtMetric(name: string, x: number | null): string {
  return COS_METRICS.has(name) ? formatCos(x) : formatNum(x);
}

function thrText(t: ThresholdRef | undefined): string {
  if (!t) return "";
  const ok = (b: boolean | null): string => (b === null ? "n/a" : b ? "ok" : "miss");
  return `; ${t.name} ${formatNum(t.value, 8)}: ${ok(t.base_ok)} -> ${ok(t.head_ok)}`;
}

/** Human-readable diff (ends with a newline). */
export function renderDiffConsole(diff: ReportDiff, opts: { color?: boolean } = {}): string {
  const c: ChalkInstance = new Chalk({ level: opts.color ? 1 : 0 });
  const reg = (b: boolean): string => (b ? ` ${c.red.bold("REGRESSION")}` : "");
  const lines: string[] = [
    `numgate diff: base ${diff.base.generated_at} (${diff.base.runs} runs) -> head ${diff.head.generated_at} (${diff.head.runs} runs); cos tolerance ${diff.cosTolerance} absolute`,
  ];
  for (const run of diff.runs) {
    const pres = run.presence === "both" ? "" : ` (${run.presence})`;
    lines.push(`${c.bold(oneLine(run.id))}${pres}: ${V(run.verdict.base)} -> ${V(run.verdict.head)}${reg(run.verdict.regression)}`);
    for (const g of run.rungs) {
      const gp = g.presence === "both" ? "" : ` (${g.presence})`;
      lines.push(`  ${oneLine(g.id)}${gp}: ${V(g.verdict.base)} -> ${V(g.verdict.head)}${reg(g.verdict.regression)}`);
      if (g.not_compared !== undefined) lines.push(`    ${c.dim("evidence not compared:")} ${oneLine(g.not_compared)}`);
      if (g.message.base !== g.message.head && g.message.head !== null) lines.push(`    ${c.dim("message:")} ${oneLine(g.message.head)}`);
      for (const t of g.thresholds) lines.push(`    threshold ${t.name}: ${formatNum(t.base, 8)} -> ${formatNum(t.head, 8)}`);
      for (const p of g.prompts) {
        const pp = p.presence === "both" ? "" : ` (${p.presence})`;
        lines.push(`    [${oneLine(p.prompt)}]${pp}: ${V(p.verdict.base)} -> ${V(p.verdict.head)}${reg(p.verdict.regression)}`);
        for (const m of p.metrics) {
          lines.push(`      ${oneLine(m.scope)} ${m.metric}: ${fmtMetric(m.metric, m.base)} -> ${fmtMetric(m.metric, m.head)} (${formatDelta(m.delta)}${thrText(m.threshold)})${reg(m.regression)}`);
        }
        for (const l of p.layers) {
          lines.push(`      layer ${l.layer} ${l.metric}: ${formatCos(l.base)} -> ${formatCos(l.head)} (${formatDelta(l.delta)}${thrText(l.threshold)})${l.verdict.changed ? ` ${V(l.verdict.base)} -> ${V(l.verdict.head)}` : ""}${reg(l.regression)}`);
        }
        if (p.tokens) {
          const t = p.tokens;
          lines.push(`      ${t.kind} tokens (oracle/candidate), first divergence ${t.base_first_divergence ?? "none"} -> ${t.head_first_divergence ?? "none"}:`);
          lines.push(`        step  base oracle/cand       head oracle/cand`);
          for (const r of t.rows) {
            if (!r.changed && r.step !== t.head_first_divergence && r.step !== t.base_first_divergence) continue;
            const bb = `${r.base_oracle ?? "-"}/${r.base_candidate ?? "-"}`;
            const hh = `${r.head_oracle ?? "-"}/${r.head_candidate ?? "-"}`;
            lines.push(`        ${String(r.step).padStart(4)}  ${bb.padEnd(21)}  ${hh}${r.changed ? c.yellow("  *") : ""}`);
          }
        }
      }
    }
  }
  if (diff.changes === 0) lines.push(c.green("no changes"));
  else if (!diff.regression) lines.push(c.green(`${diff.changes} change(s), no regression`));
  else {
    lines.push(c.red.bold(`REGRESSION: ${diff.regressions.length} regression(s) in ${diff.changes} change(s)`));
    for (const r of diff.regressions) lines.push(`  - ${oneLine(r)}`);
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML

function vcell(v: Verdict | null): string {
  return v === null ? `<span class="muted">absent</span>` : verdictBadge(v);
}

function regCell(b: boolean): string {
  return b ? `<span class="verdict v-fail">REGRESSION</span>` : "";
}

/** A self-contained HTML page for the diff. */
export function renderDiffHtml(diff: ReportDiff): string {
  const parts: string[] = [];
  const status = diff.changes === 0 ? "no changes" : diff.regression ? `REGRESSION (${diff.regressions.length})` : `${diff.changes} change(s), no regression`;
  parts.push(
    `<header><h1>numgate diff</h1><p id="diff-status" class="${diff.regression ? "verdict v-fail" : "verdict v-pass"}">${h(status)}</p>` +
      `<p class="muted">base ${h(diff.base.generated_at)} (${diff.base.runs} runs) → head ${h(diff.head.generated_at)} (${diff.head.runs} runs); cos tolerance ${h(String(diff.cosTolerance))} absolute. Regression = a verdict that went pass → fail/error, or a cosine that dropped by more than the tolerance.</p></header>`,
  );
  if (diff.regressions.length) parts.push(`<h2>Regressions</h2><ul class="regressions">${diff.regressions.map((r) => `<li>${h(r)}</li>`).join("")}</ul>`);
  for (const run of diff.runs) {
    parts.push(`<section class="run" data-run="${h(run.id)}"><h2>${h(run.id)} ${run.presence === "both" ? "" : `<span class="muted">(${run.presence})</span>`}: ${vcell(run.verdict.base)} → ${vcell(run.verdict.head)} ${regCell(run.verdict.regression)}</h2>`);
    for (const g of run.rungs) {
      parts.push(
        `<section class="rung${g.regression ? " r-fail" : ""}" data-rung="${h(g.id)}"><h3><code>${h(g.id)}</code> ${g.presence === "both" ? "" : `<span class="muted">(${g.presence})</span>`} ${vcell(g.verdict.base)} → ${vcell(g.verdict.head)} ${regCell(g.verdict.regression)}</h3>`,
      );
      if (g.not_compared !== undefined) parts.push(`<p class="msg small not-compared">Evidence not compared: ${h(g.not_compared)}</p>`);
      if (g.message.base !== g.message.head) parts.push(`<p class="msg small">base: ${h(g.message.base ?? "—")}<br>head: ${h(g.message.head ?? "—")}</p>`);
      if (g.thresholds.length)
        parts.push(`<table><thead><tr><th>threshold</th><th>base</th><th>head</th></tr></thead><tbody>${g.thresholds.map((t) => `<tr><td><code>${h(t.name)}</code></td><td class="num">${formatNum(t.base, 8)}</td><td class="num">${formatNum(t.head, 8)}</td></tr>`).join("")}</tbody></table>`);
      for (const p of g.prompts) {
        parts.push(`<details open><summary><span class="prompt">${h(p.prompt)}</span> ${p.presence === "both" ? "" : `(${p.presence})`} ${vcell(p.verdict.base)} → ${vcell(p.verdict.head)} ${regCell(p.verdict.regression)}</summary>`);
        const rows = [
          ...p.metrics.map((m) => ({ scope: m.scope, metric: m.metric, base: m.base, head: m.head, d: m.delta, thr: m.threshold, reg: m.regression })),
          ...p.layers.map((l) => ({ scope: `layer ${l.layer}`, metric: l.metric, base: l.base, head: l.head, d: l.delta, thr: l.threshold, reg: l.regression })),
        ];
        if (rows.length) {
          parts.push(
            `<table class="metric-deltas"><thead><tr><th>scope</th><th>metric</th><th>base</th><th>head</th><th>Δ</th><th>threshold</th><th></th></tr></thead><tbody>` +
              rows
                .map(
                  (r) =>
                    `<tr class="${r.reg ? "bad" : ""}"><td>${h(r.scope)}</td><td><code>${h(r.metric)}</code></td><td class="num">${fmtMetric(r.metric, r.base)}</td><td class="num">${fmtMetric(r.metric, r.head)}</td><td class="num">${formatDelta(r.d)}</td><td class="small">${r.thr ? h(thrText(r.thr).slice(2)) : ""}</td><td>${regCell(r.reg)}</td></tr>`,
                )
                .join("") +
              "</tbody></table>",
          );
        }
        if (p.tokens) {
          const t = p.tokens;
          parts.push(
            `<p class="small">${h(t.kind)} tokens side by side; first divergence ${t.base_first_divergence ?? "none"} → ${t.head_first_divergence ?? "none"}</p>` +
              `<table class="tokens-side-by-side"><thead><tr><th>step</th><th>base oracle</th><th>base candidate</th><th>head oracle</th><th>head candidate</th></tr></thead><tbody>` +
              t.rows
                .map(
                  (r) =>
                    `<tr class="${r.step === t.head_first_divergence ? "first-divergence" : r.changed ? "bad" : ""}"><td class="num">${r.step}</td><td class="num">${r.base_oracle ?? "—"}</td><td class="num">${r.base_candidate ?? "—"}</td><td class="num">${r.head_oracle ?? "—"}</td><td class="num">${r.head_candidate ?? "—"}</td></tr>`,
                )
                .join("") +
              "</tbody></table>",
          );
        }
        parts.push("</details>");
      }
      parts.push("</section>");
    }
    parts.push("</section>");
  }
  if (diff.runs.length === 0) parts.push(`<p id="no-changes">The two reports agree: no changes.</p>`);
  return htmlPage(`numgate diff: ${status}`, parts.join(""));
}
