/** numgate reports: report.json schema and every rendering of it. */
export * from "./schema.ts";
export {
  canonicalReport,
  formatIssuePath,
  nonFiniteToNull,
  parseReport,
  readReport,
  reportDuration,
  reportTimestamp,
  serializeReport,
} from "./json.ts";
export { junitCases, junitClassname, renderJunit, type JunitCase } from "./junit.ts";
export { embedJson, layerChartSvg, renderHtml, type HtmlOptions } from "./html.ts";
export {
  createProgress,
  printReport,
  progressLine,
  progressOf,
  progressStartLine,
  renderConsole,
  useColor,
  type ConsoleOptions,
  type OutStream,
  type Progress,
  type ProgressDone,
  type ProgressStart,
} from "./console.ts";
export { emitGithub, githubAnnotations, renderGithubSummary } from "./github.ts";
export {
  DEFAULT_COS_TOLERANCE,
  diffReports,
  isRegression,
  renderDiffConsole,
  renderDiffHtml,
  type DiffOptions,
  type LayerDelta,
  type MetricDelta,
  type PromptDiff,
  type ReportDiff,
  type RunDiff,
  type RungDiff,
  type TokenSequences,
  type VerdictChange,
} from "./diff.ts";
export { mergeReports, parseShard, shardOf, type Shard } from "./merge.ts";
export { renderAll, writeReports, type ReportPaths, type WriteOptions } from "./write.ts";
