/** Vision encoder: merged image embeddings and every DeepStack level, whole tensor and worst row. */
import { NumgateError } from "../../errors/numgate-error.ts";
import { cosine, firstNonFinite, maxAbsDiff, relativeL2, rowCosines } from "../../metrics/index.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { rungMessage, type PromptResult } from "../../verdicts/prompt-result.ts";
import { combineVerdicts } from "../../verdicts/verdict.ts";
import { finiteOrNull, fmt, threshold, type Gate } from "../gate.ts";
import { requireSameShape } from "../shapes.ts";
import type { VisionEvidence, VisionTensor } from "./evidence.ts";

export const visionGate: Gate<VisionEvidence> = async (ctx) => {
  const minCos = threshold(ctx, "min_cos");
  const minWorst = threshold(ctx, "min_cos_worst_row", minCos);
  const results: PromptResult<VisionEvidence>[] = [];
  for (const name of ctx.prompts) {
    const { meta, dump } = ctx.session.prompt(name);
    if (meta.kind !== "multimodal") continue;
    const vis = await ctx.session.vision(name);
    if (vis === null) throw new NumgateError("internal", `prompt ${name} has no pixel values`);
    const pairs: [string, string, Tensor][] = vis.map((f) => [f.label, f.oracleKey, f.tensor]);
    const rows: VisionTensor[] = [];
    let errorDetail: string | undefined;
    let errorTensor: string | undefined;
    for (const [label, key, cand] of pairs) {
      if (!dump.has(key)) {
        throw new NumgateError("tensor_missing", `oracle has no ${key} but the candidate produced ${label}`, { file: dump.file, field: key });
      }
      const refTensor = dump.get(key);
      requireSameShape(ctx, { oracleFile: dump.file, oracleKey: key, oracleShape: refTensor.shape, candidateLabel: `vision ${label} (prompt "${name}")`, candidateShape: cand.shape, dims: ["image tokens", "hidden width"] });
      const ref = refTensor.toFloat32();
      const c = cand.toFloat32();
      const width = dump.get(key).shape.at(-1) ?? 1;
      const bad = firstNonFinite(c);
      if (bad >= 0 && errorDetail === undefined) {
        errorTensor = `vision ${label}`;
        errorDetail = `candidate vision ${label} has a non-finite value (${c[bad]}) at row ${Math.floor(bad / width)}`;
      }
      const rc = rowCosines(ref, c, width);
      const cos = finiteOrNull(cosine(ref, c));
      const worst = finiteOrNull(rc.worst);
      const ok = cos !== null && worst !== null && cos >= minCos && worst >= minWorst;
      rows.push({
        name: label,
        rows: ref.length / width,
        cos,
        cos_worst_row: worst,
        worst_row: rc.worstRow,
        max_abs: finiteOrNull(maxAbsDiff(ref, c).value),
        rel_l2: finiteOrNull(relativeL2(ref, c)),
        verdict: ok ? "pass" : "fail",
      });
    }
    if (errorDetail !== undefined) {
      results.push({ prompt: name, verdict: "error", message: errorDetail, evidence: { kind: "error", tensor: errorTensor ?? "vision", detail: errorDetail } });
      continue;
    }
    const failing = rows.find((r) => r.verdict === "fail");
    const worstRow = rows.reduce((a, b) => ((b.cos_worst_row ?? -2) < (a.cos_worst_row ?? -2) ? b : a));
    results.push({
      prompt: name,
      verdict: failing === undefined ? "pass" : "fail",
      message:
        failing === undefined
          ? `${rows.length} tensors, min cos ${fmt(Math.min(...rows.map((r) => r.cos ?? -1)))}, worst row ${fmt(worstRow.cos_worst_row)} (${worstRow.name} row ${worstRow.worst_row})`
          : `${failing.name} cos ${fmt(failing.cos)} (worst row ${failing.worst_row}: ${fmt(failing.cos_worst_row)}) below ${minCos}/${minWorst}`,
      evidence: { kind: "vision", tensors: rows },
    });
  }
  const verdict = combineVerdicts(results.map((r) => r.verdict));
  return { verdict, message: rungMessage(results, results.length === 0 ? "no multimodal prompt" : `${results.length} image(s) within thresholds`), prompts: results, units: {} };
};
