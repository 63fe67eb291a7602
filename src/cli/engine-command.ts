/** `numgate engine check -- <command…>`: the engine conformance suite, run against an engine. */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { NumgateError } from "../errors/numgate-error.ts";

export function registerEngineCommand(program: Command, root: string): void {
  const engine = program.command("engine").description("work with engines that speak numgate's engine protocol");
  engine
    .command("check")
    .description("run the engine conformance suite against an engine command (given after --)")
    .argument("<command...>", "the engine's argv; {root} and {python} are resolved as in candidates")
    .option("--model <name>", "take the model shape and inputs from this gate spec's oracle", "qwen3-vl-tiny")
    .option("--shape <file>", "take the model shape from this JSON instead ({model, input_ids?, vision?})")
    .option("--timeout <s>", "seconds each request may take", Number, 60)
    .option("--junit <file>", "also write the results as JUnit XML")
    .action(async (command: string[], opts: { model: string; shape?: string; timeout: number; junit?: string }) => {
      const { runChecks } = await import("../engine-check/checks.ts");
      const { inputsFromModel, inputsFromShapeFile } = await import("../engine-check/inputs.ts");
      const { renderJunitChecks, renderTable } = await import("../engine-check/render.ts");
      const { engineCommand } = await import("../backends/engine/open.ts");
      if (!(opts.timeout > 0)) throw new NumgateError("schema_violation", `--timeout must be a positive number of seconds, got ${opts.timeout}`, { field: "--timeout" });
      const inputs = opts.shape === undefined ? await inputsFromModel(root, opts.model) : inputsFromShapeFile(opts.shape);
      const argv = engineCommand(command, root, root);
      const results = await runChecks(inputs, { command: argv, cwd: root, timeoutSeconds: opts.timeout });
      process.stdout.write(renderTable(results));
      if (opts.junit !== undefined) writeFileSync(opts.junit, renderJunitChecks(results, argv));
      process.exitCode = results.some((r) => r.verdict === "fail") ? 1 : 0;
    });
}
