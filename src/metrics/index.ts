/** Pure numeric comparisons between an oracle (reference) and a candidate; all reductions in float64. */
export { firstNonFinite, countNonFinite } from "./finite.ts";
export { cosine, rowCosines, maxAbsDiff, relativeL2, snrDb, type RowCosines } from "./similarity.ts";
export { argmax, topK, top2Margin, logSumExp, logSoftmax, klDivergence, topKOverlap, type Top2Margin } from "./ranking.ts";
export type { MetricContext } from "./shape.ts";
