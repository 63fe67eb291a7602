/**
 * Per-layer hidden-state cosine over every decoder layer. Cumulative error: the candidate runs
 * on its own inputs. Isolated error (when the backend can feed one layer an external input):
 * layer k is run on the oracle's input to layer k, which names the first layer that fails while
 * its input passes. Each isolated layer costs a prefill, so by default it is computed only where
 * it localizes something: from the first layer that fails cumulatively on (before it every layer
 * passes on inputs that pass). `isolated: always` computes it on every layer, `false` never.
 */
import { cosine, firstNonFinite, maxAbsDiff, relativeL2, rowCosines } from "../../metrics/index.ts";
import { rungMessage, type PromptResult } from "../../verdicts/prompt-result.ts";
import { combineVerdicts } from "../../verdicts/verdict.ts";
import { finiteOrNull, fmt, threshold, type Gate } from "../gate.ts";
import { requireSameShape } from "../shapes.ts";
import type { FirstFailingLayer, LayerRow, LayersEvidence } from "./evidence.ts";
import type { IsolatedSetting } from "./settings.ts";

export const layersGate: Gate<LayersEvidence> = async (ctx) => {
  const minCos = threshold(ctx, "min_cos");
  const minWorst = threshold(ctx, "min_cos_worst_row", minCos);
  const setting = (ctx.options["isolated"] ?? "on_failure") as IsolatedSetting;
  const canIsolate = setting !== false && ctx.session.missing.isolated_layers === undefined;
  const L = ctx.session.layers;
  const H = ctx.session.hidden;
  const results: PromptResult<LayersEvidence>[] = [];
  for (const name of ctx.prompts) {
    const { dump } = ctx.session.prompt(name);
    const out = await ctx.session.layerOutputs(name);
    const hidden = out.toFloat32();
    const S = out.shape[2] ?? 0;
    // [L, 1, S, H] against the oracle's L tensors of [S, H]: layer count, sequence length and
    // hidden width, before any metric sees a flat buffer.
    const hidden0 = dump.get("decoder.hidden.0");
    const L0 = out.shape[0] ?? 0;
    if (out.shape.length !== 4 || L0 !== L) {
      requireSameShape(ctx, {
        oracleFile: dump.file,
        oracleKey: `decoder.hidden.0..${L - 1}`,
        oracleShape: [L, 1, ...hidden0.shape.slice(-2)],
        candidateLabel: `hidden_states (prompt "${name}")`,
        candidateShape: out.shape,
        dims: ["layer count", "batch", "sequence length", "hidden width"],
      });
    }
    const n = S * H;
    const rows: LayerRow[] = [];
    // Isolated result per layer: its whole-tensor cosine goes into the row, its verdict and worst
    // token here (a layer fails in isolation on either criterion, as it does cumulatively).
    const isolated = new Map<number, { pass: boolean; token: number; worst: number | null }>();
    let nonFinite: { layer: number; token: number; value: number } | undefined;
    const passes = (cos: number | null, worst: number | null) => cos !== null && worst !== null && cos >= minCos && worst >= minWorst;
    let isolating = canIsolate && setting === "always";
    for (let i = 0; i < L; i++) {
      const refTensor = dump.get(`decoder.hidden.${i}`);
      const pair = { oracleFile: dump.file, oracleKey: `decoder.hidden.${i}`, oracleShape: refTensor.shape, dims: ["sequence length", "hidden width"] };
      requireSameShape(ctx, { ...pair, candidateLabel: `hidden_states of layer ${i} (prompt "${name}")`, candidateShape: [S, out.shape[3] ?? 0] });
      const ref = refTensor.toFloat32();
      const cand = hidden.subarray(i * n, (i + 1) * n);
      const bad = firstNonFinite(cand);
      if (bad >= 0 && nonFinite === undefined) nonFinite = { layer: i, token: Math.floor(bad / H), value: cand[bad] ?? NaN };
      const rc = rowCosines(ref, cand, H);
      const cos = finiteOrNull(cosine(ref, cand));
      const worst = finiteOrNull(rc.worst);
      const row: LayerRow = {
        layer: i,
        cos,
        cos_worst_row: worst,
        worst_token: rc.worstRow,
        max_abs: finiteOrNull(maxAbsDiff(ref, cand).value),
        rel_l2: finiteOrNull(relativeL2(ref, cand)),
        verdict: passes(cos, worst) ? "pass" : "fail",
      };
      if (canIsolate && row.verdict === "fail") isolating = true;
      if (isolating && nonFinite === undefined) {
        const iso = await ctx.session.isolatedLayer(name, i);
        if (iso.length !== ref.length) requireSameShape(ctx, { ...pair, candidateLabel: `isolated hidden_states of layer ${i} (prompt "${name}")`, candidateShape: [iso.length / H, H] });
        const isoRc = rowCosines(ref, iso, H);
        const isoCos = finiteOrNull(cosine(ref, iso));
        const isoWorst = finiteOrNull(isoRc.worst);
        row.isolated_cos = isoCos;
        isolated.set(i, { pass: passes(isoCos, isoWorst), token: isoRc.worstRow, worst: isoWorst });
      }
      rows.push(row);
    }
    if (nonFinite !== undefined) {
      const detail = `candidate hidden_states of layer ${nonFinite.layer} is non-finite (${nonFinite.value}) at token ${nonFinite.token}: the first layer whose output overflowed`;
      results.push({
        prompt: name,
        verdict: "error",
        message: detail,
        evidence: { kind: "error", tensor: "hidden_states", layer: nonFinite.layer, detail },
      });
      continue;
    }
    const firstBad = rows.find((r) => r.verdict === "fail");
    const first: FirstFailingLayer | undefined =
      firstBad === undefined ? undefined : { layer: firstBad.layer, token: firstBad.worst_token, cos: firstBad.cos_worst_row };
    // Isolated: the first layer that fails on the oracle's own input (its input passes by construction).
    const firstIsoLayer = rows.find((r) => isolated.get(r.layer)?.pass === false)?.layer;
    const firstIso = firstIsoLayer === undefined ? undefined : isolated.get(firstIsoLayer);
    const isolatedFirst: FirstFailingLayer | undefined =
      firstIsoLayer === undefined || firstIso === undefined ? undefined : { layer: firstIsoLayer, token: firstIso.token, cos: firstIso.worst };
    const minRow = rows.reduce((a, b) => ((b.cos ?? -2) < (a.cos ?? -2) ? b : a));
    let message: string;
    if (firstBad === undefined) {
      message = `${L}/${L} layers pass, min cos ${fmt(minRow.cos)} (layer ${minRow.layer})`;
    } else {
      const failing = rows.filter((r) => r.verdict === "fail").length;
      message =
        `first divergent layer ${firstBad.layer}: cos ${fmt(firstBad.cos)}, worst token ${firstBad.worst_token} cos ${fmt(firstBad.cos_worst_row)} (min ${minCos}/${minWorst}); ` +
        `${L - failing}/${L} layers pass` +
        (isolatedFirst !== undefined
          ? `; isolated: layer ${isolatedFirst.layer} fails on the oracle's input (worst token ${isolatedFirst.token} cos ${fmt(isolatedFirst.cos)})`
          : isolated.size > 0
            ? `; isolated: every layer${setting === "always" ? "" : ` from ${firstBad.layer} on`} passes on the oracle's input`
            : "");
    }
    const evidence = {
      kind: "layers" as const,
      // "isolated" when some layer's isolated error was computed (its rows carry isolated_cos).
      mode: isolated.size > 0 ? ("isolated" as const) : ("cumulative" as const),
      layers: rows,
      ...(first === undefined ? {} : { first_failing: first }),
      ...(isolatedFirst === undefined ? {} : { first_failing_isolated: isolatedFirst }),
    };
    results.push({ prompt: name, verdict: firstBad === undefined ? "pass" : "fail", message, evidence });
  }
  const verdict = combineVerdicts(results.map((r) => r.verdict));
  return { verdict, message: rungMessage(results, `${L}/${L} layers pass on ${results.length} prompts`), prompts: results, units: {} };
};
