/**
 * `numgate render | diff | merge`: the report subcommands. The main CLI calls
 * `registerReportCommands(program)`; failures are thrown as NumgateError for it to print.
 * `diff` sets process.exitCode = 1 on a regression (it does not call process.exit).
 * The report modules (zod schemas, renderers) are imported inside the actions, so that `--help`
 * does not load them.
 */
import { writeFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import { NumgateError } from "../errors/numgate-error.ts";

/** The default of `diff --tolerance`; report/diff.ts's DEFAULT_COS_TOLERANCE (a test keeps them equal). */
export const DIFF_COS_TOLERANCE = 1e-6;

function parseTolerance(value: string): number {
  const x = Number(value);
  if (value.trim() === "" || !Number.isFinite(x) || x < 0) throw new InvalidArgumentError("expected a non-negative number, e.g. 1e-6");
  return x;
}

export function registerReportCommands(program: import("commander").Command): void {
  program
    .command("render")
    .description("re-render junit.xml and report.html (and report.json) from a report.json")
    .argument("<report.json>", "report to render")
    .option("--out <dir>", "output directory (default: the report's directory)")
    .action(async (reportPath: string, opts: { out?: string }) => {
      const { renderAll } = await import("../report/write.ts");
      const paths = renderAll(reportPath, opts.out);
      process.stdout.write(`${paths.json}\n${paths.junit}\n${paths.html}\n`);
    });

  program
    .command("diff")
    .description(
      "compare two reports; exit 1 on a regression (a verdict pass -> fail/error, or a cosine that dropped by more than the tolerance)",
    )
    .argument("<base.json>", "baseline report")
    .argument("<head.json>", "new report")
    .option("--tolerance <x>", `absolute tolerance on a cosine drop (default ${DIFF_COS_TOLERANCE})`, parseTolerance)
    .option("--html <out.html>", "also write the diff as a self-contained HTML page")
    .action(async (basePath: string, headPath: string, opts: { tolerance?: number; html?: string }) => {
      const [{ diffReports, renderDiffConsole, renderDiffHtml }, { readReport }, { useColor }] = await Promise.all([
        import("../report/diff.ts"),
        import("../report/json.ts"),
        import("../report/console.ts"),
      ]);
      const diff = diffReports(readReport(basePath), readReport(headPath), {
        cosTolerance: opts.tolerance ?? DIFF_COS_TOLERANCE,
      });
      process.stdout.write(renderDiffConsole(diff, { color: useColor(process.stdout) }));
      if (opts.html !== undefined) {
        try {
          writeFileSync(opts.html, renderDiffHtml(diff), "utf8");
        } catch (cause) {
          throw new NumgateError("file_unreadable", `cannot write: ${(cause as Error).message}`, { file: opts.html, cause });
        }
      }
      if (diff.regression) process.exitCode = 1;
    });

  program
    .command("merge")
    .description("combine several report.json (e.g. CI shards) into one and render it")
    .argument("<reports...>", "report.json files, in order")
    .requiredOption("--out <dir>", "output directory for the merged report.json, junit.xml, report.html")
    .action(async (reportPaths: string[], opts: { out: string }) => {
      const [{ readReport }, { mergeReports }, { writeReports }] = await Promise.all([
        import("../report/json.ts"),
        import("../report/merge.ts"),
        import("../report/write.ts"),
      ]);
      const merged = mergeReports(
        reportPaths.map((p) => readReport(p)),
        reportPaths,
      );
      const paths = writeReports(merged, opts.out);
      process.stdout.write(`${paths.json}\n${paths.junit}\n${paths.html}\n`);
    });
}
