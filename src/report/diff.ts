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
 */
import type {
  Evidence,
  LayerRow,
  PromptResult,
  Report,
  Run,
  Rung,
  RungKind,
  Verdict,
} from "./schema.ts";
import { Chalk, type ChalkInstance } from "chalk";
import { htmlPage, verdictBadge } from "./html.ts";
import { escapeHtml as h, formatCos, formatDelta, formatNum, oneLine } from "./text.ts";

export const DEFAULT_COS_TOLERANCE = 1e-6;

export interface DiffOptions {
  /** Absolute tolerance on a cosine drop before it counts as a regression (default 1e-6). */
  cosTolerance?: number;
}

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
  kind: "teacher_forced" | "greedy";
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
  changed: boolean;
  regression: boolean;
  reasons: string[];
}

export interface RunDiff {
  id: string;
  presence: Presence;
  verdict: VerdictChange;
  /** Only rungs with a change. */
  rungs: RungDiff[];
  changed: boolean;
  regression: boolean;
  reasons: string[];
}

export interface ReportDiff {
  cosTolerance: number;
  base: { generated_at: string; runs: number };
  head: { generated_at: string; runs: number };
  /** Only runs with a change. */
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

/** Pairs items by key; for duplicate keys the nth occurrence matches the nth. Base order first, then new head items. */
function pairBy<T>(base: readonly T[], head: readonly T[], key: (t: T) => string): { key: string; base?: T; head?: T }[] {
  const tag = (xs: readonly T[]): [string, T][] => {
    const seen = new Map<string, number>();
    return xs.map((x) => {
      const k = key(x);
      const n = seen.get(k) ?? 0;
      seen.set(k, n + 1);
      return [n === 0 ? k : `${k}\u0000${n}`, x];
    });
  };
  const hb = new Map(tag(head));
  const out: { key: string; base?: T; head?: T }[] = [];
  const used = new Set<string>();
  for (const [k, b] of tag(base)) {
    const hh = hb.get(k);
    used.add(k);
    out.push(hh === undefined ? { key: k, base: b } : { key: k, base: b, head: hh });
  }
  for (const [k, hh] of hb) if (!used.has(k)) out.push({ key: k, head: hh });
  return out;
}

class Ctx {
  constructor(
    readonly tol: number,
    readonly thresholds: Readonly<Record<string, number>>,
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

function layerDeltas(ctx: Ctx, base: readonly LayerRow[], head: readonly LayerRow[]): LayerDelta[] {
  const out: LayerDelta[] = [];
  for (const pair of pairBy(base, head, (l) => String(l.layer))) {
    const b = pair.base;
    const a = pair.head;
    const layer = (a ?? b)?.layer ?? -1;
    const vc = verdictChange(b?.verdict ?? null, a?.verdict ?? null);
    for (const m of ["cos", "cos_worst_row", "isolated_cos"] as const) {
      const bv = b?.[m] ?? null;
      const av = a?.[m] ?? null;
      if (bv === av && !(m === "cos" && vc.changed)) continue;
      const thr = ctx.threshold(m, bv, av);
      out.push({
        layer,
        metric: m,
        base: bv,
        head: av,
        delta: delta(bv, av),
        ...(thr ? { threshold: thr } : {}),
        verdict: vc,
        // a layer removed from head is a change, not a regression; a metric that became null is one
        regression: ctx.cosRegression(b?.[m], a === undefined ? undefined : (a[m] ?? null)),
      });
    }
  }
  return out;
}

function tokenRows(kind: "teacher_forced" | "greedy", b: Evidence | undefined, a: Evidence | undefined): TokenSequences | undefined {
  const seq = (e: Evidence | undefined): { o: number[]; c: number[]; first: number | null } | undefined => {
    if (e?.kind === "teacher_forced") {
      const tf = e;
      const first = tf.steps.find((s) => !s.match);
      return { o: tf.steps.map((s) => s.oracle_token), c: tf.steps.map((s) => s.candidate_token), first: first?.step ?? null };
    }
    if (e?.kind === "greedy") {
      const g = e;
      let first: number | null = g.first_divergence?.step ?? null;
      if (first === null) {
        for (let i = 0; i < Math.max(g.oracle_tokens.length, g.candidate_tokens.length); i++) if (g.oracle_tokens[i] !== g.candidate_tokens[i]) { first = i; break; }
      }
      return { o: g.oracle_tokens, c: g.candidate_tokens, first };
    }
    return undefined;
  };
  const sb = seq(b);
  const sa = seq(a);
  if (sb === undefined && sa === undefined) return undefined;
  const n = Math.max(sb?.o.length ?? 0, sb?.c.length ?? 0, sa?.o.length ?? 0, sa?.c.length ?? 0);
  const rows: TokenRow[] = [];
  let any = false;
  for (let i = 0; i < n; i++) {
    const r: TokenRow = {
      step: i,
      base_oracle: sb?.o[i] ?? null,
      base_candidate: sb?.c[i] ?? null,
      head_oracle: sa?.o[i] ?? null,
      head_candidate: sa?.c[i] ?? null,
      changed: false,
    };
    r.changed = r.base_oracle !== r.head_oracle || r.base_candidate !== r.head_candidate;
    any ||= r.changed;
    rows.push(r);
  }
  if (!any) return undefined;
  return { kind, base_first_divergence: sb?.first ?? null, head_first_divergence: sa?.first ?? null, rows };
}

function promptDiff(ctx: Ctx, kind: RungKind, b: PromptResult | undefined, a: PromptResult | undefined): PromptDiff {
  const metrics: MetricDelta[] = [];
  let layers: LayerDelta[] = [];
  const eb = b?.evidence;
  const ea = a?.evidence;
  // vision tensors
  if (eb?.kind === "vision" || ea?.kind === "vision") {
    const tb = eb?.kind === "vision" ? eb.tensors : [];
    const ta = ea?.kind === "vision" ? ea.tensors : [];
    for (const p of pairBy(tb, ta, (t) => t.name)) {
      for (const m of ["cos", "cos_worst_row", "max_abs", "rel_l2"] as const) {
        metric(ctx, (p.head ?? p.base)?.name ?? p.key, m, p.base === undefined ? undefined : p.base[m], p.head?.[m], metrics);
      }
    }
  }
  if (eb?.kind === "layers" || ea?.kind === "layers") {
    const lb = eb?.kind === "layers" ? eb : undefined;
    const la = ea?.kind === "layers" ? ea : undefined;
    layers = layerDeltas(ctx, lb?.layers ?? [], la?.layers ?? []);
    metric(ctx, "summary", "first_failing_layer", lb?.first_failing?.layer, la?.first_failing?.layer, metrics);
    metric(ctx, "summary", "first_failing_isolated_layer", lb?.first_failing_isolated?.layer, la?.first_failing_isolated?.layer, metrics);
  }
  if (eb?.kind === "positions" || ea?.kind === "positions") {
    const cb = eb?.kind === "positions" ? eb.checks : [];
    const ca = ea?.kind === "positions" ? ea.checks : [];
    for (const p of pairBy(cb, ca, (c) => c.name)) {
      metric(ctx, `check ${p.key.split("\u0000")[0] ?? p.key}`, "mismatches", p.base?.mismatches, p.head?.mismatches, metrics);
      metric(ctx, `check ${p.key.split("\u0000")[0] ?? p.key}`, "compared", p.base?.compared, p.head?.compared, metrics);
    }
  }
  if (eb?.kind === "seeded_decode" || ea?.kind === "seeded_decode") {
    const sb = eb?.kind === "seeded_decode" ? eb : undefined;
    const sa = ea?.kind === "seeded_decode" ? ea : undefined;
    metric(ctx, "summary", "logits_cos", sb?.logits_cos, sa?.logits_cos, metrics);
    metric(ctx, "summary", "candidate_top1", sb?.candidate_top1, sa?.candidate_top1, metrics);
  }
  if (eb?.kind === "teacher_forced" || ea?.kind === "teacher_forced") {
    const tb = eb?.kind === "teacher_forced" ? eb : undefined;
    const ta = ea?.kind === "teacher_forced" ? ea : undefined;
    metric(ctx, "summary", "matches", tb?.matches, ta?.matches, metrics);
    metric(ctx, "summary", "near_tie_flips", tb?.near_tie_flips, ta?.near_tie_flips, metrics);
    metric(ctx, "summary", "min_oracle_margin", tb?.min_oracle_margin, ta?.min_oracle_margin, metrics);
  }
  if (eb?.kind === "greedy" || ea?.kind === "greedy") {
    const gb = eb?.kind === "greedy" ? eb : undefined;
    const ga = ea?.kind === "greedy" ? ea : undefined;
    metric(ctx, "summary", "matches", gb?.matches, ga?.matches, metrics);
    metric(ctx, "summary", "first_divergence_step", gb?.first_divergence?.step, ga?.first_divergence?.step, metrics);
  }
  const tokens = kind === "teacher_forced" || kind === "greedy" ? tokenRows(kind, eb, ea) : undefined;
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

function rungDiff(tol: number, b: Rung | undefined, a: Rung | undefined): RungDiff {
  const r = (a ?? b) as Rung;
  const ctx = new Ctx(tol, a?.thresholds ?? b?.thresholds ?? {});
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
  return {
    id: r.id,
    kind: r.kind,
    presence,
    verdict,
    message: { base: b?.message ?? null, head: a?.message ?? null },
    thresholds,
    prompts,
    changed: presence !== "both" || verdict.changed || b?.message !== a?.message || thresholds.length > 0 || prompts.length > 0,
    regression: reasons.length > 0,
    reasons,
  };
}

function runDiff(tol: number, b: Run | undefined, a: Run | undefined): RunDiff {
  const r = (a ?? b) as Run;
  const rungs = pairBy(b?.rungs ?? [], a?.rungs ?? [], (g) => g.id)
    .map((p) => rungDiff(tol, p.base, p.head))
    .filter((d) => d.changed);
  const verdict = verdictChange(b?.verdict ?? null, a?.verdict ?? null);
  const reasons: string[] = [];
  if (verdict.regression) reasons.push(`run verdict ${verdict.base} -> ${verdict.head}`);
  for (const g of rungs) for (const why of g.reasons) reasons.push(`${g.id} ${why}`);
  const presence: Presence = b === undefined ? "added" : a === undefined ? "removed" : "both";
  return { id: r.id, presence, verdict, rungs, changed: presence !== "both" || verdict.changed || rungs.length > 0, regression: reasons.length > 0, reasons };
}

/** Structured diff of two reports. See the module comment for what counts as a regression. */
export function diffReports(base: Report, head: Report, opts: DiffOptions = {}): ReportDiff {
  const tol = opts.cosTolerance ?? DEFAULT_COS_TOLERANCE;
  if (!Number.isFinite(tol) || tol < 0) throw new RangeError(`cosTolerance must be a finite non-negative number, got ${tol}`);
  const runs = pairBy(base.runs, head.runs, (r) => r.id)
    .map((p) => runDiff(tol, p.base, p.head))
    .filter((r) => r.changed);
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
