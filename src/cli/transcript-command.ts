/** `numgate import-transcript FILE…`: Core AI zoo gate transcripts as replayed, re-checked runs. */
import type { Command } from "commander";

export function registerTranscriptCommand(program: Command, root: string): void {
  program
    .command("import-transcript")
    .description("turn Core AI zoo gate transcripts into replayed runs (report.json, JUnit, HTML) and re-check them")
    .argument("<files...>", "coreai-gate-transcript/1 or coreai-verify-transcript/1 JSON files")
    .option("--spec <model>", "judge them by this gate spec's `transcripts` block (default: every flag fails, 16 tokens)")
    .option("--report-dir <dir>", "where the reports go", "reports/transcripts")
    .action(async (files: string[], opts: { spec?: string; reportDir: string }) => {
      const { readZooTranscript } = await import("../transcripts/coreai.ts");
      const { DEFAULT_POLICY, transcriptRun } = await import("../transcripts/recheck.ts");
      const { buildReport } = await import("../report/build.ts");
      const { writeReports } = await import("../report/write.ts");
      const { rel, resolveSpec } = await import("../run/resolve.ts");
      let policy = DEFAULT_POLICY;
      let specFile = "none";
      let model: string | undefined;
      if (opts.spec !== undefined) {
        const r = resolveSpec(root, opts.spec);
        const t = r.spec.transcripts;
        if (t !== undefined) policy = { failOn: t.fail_on, nearTieProbability: t.near_tie_probability, minTokens: t.min_tokens };
        specFile = rel(r.specPath);
        model = r.spec.model;
      }
      const runs = files.map((f) => {
        const t = readZooTranscript(f);
        return transcriptRun(t, policy, model ?? t.hfId, specFile);
      });
      for (const run of runs) {
        process.stdout.write(`${run.verdict.toUpperCase()} ${run.id} (${run.files[0]?.path})\n  ${run.rungs[0]?.message.split(" | ").join("\n  ")}\n`);
      }
      const paths = writeReports(buildReport(runs), opts.reportDir);
      process.stdout.write(`reports: ${Object.values(paths).join(", ")}\n`);
      process.exitCode = runs.every((r) => r.verdict === "pass") ? 0 : 1;
    });
}
