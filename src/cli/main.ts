#!/usr/bin/env node
/** numgate's command line: argument parsing only; the work happens in the layers it calls. */
import { Command, CommanderError } from "commander";
import { isNumgateError } from "../errors/numgate-error.ts";
import { isSpecError } from "../spec/yaml.ts";
import { numgateVersion } from "../run/report-builder.ts";
import { registerCalibrateCommand } from "./calibrate-command.ts";
import { registerGateCommand } from "./gate-command.ts";
import { registerPositionsCommand } from "./positions-command.ts";
import { registerReportCommands } from "./report-commands.ts";

const root = process.env["NUMGATE_ROOT"] ?? process.cwd();
const program = new Command();
program.name("numgate").description("Numerics gates for ML model conversions, against recorded fp32 transformers oracles").version(numgateVersion());
program.exitOverride();
registerGateCommand(program, root);
registerCalibrateCommand(program, root);
registerPositionsCommand(program);
registerReportCommands(program);
(await import("./engine-command.ts")).registerEngineCommand(program, root);
(await import("./transcript-command.ts")).registerTranscriptCommand(program, root);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode;
  } else if (isSpecError(e)) {
    process.stderr.write(`numgate: ${e.message}\n`);
    process.exitCode = 2;
  } else if (isNumgateError(e)) {
    process.stderr.write(`numgate: ${e.code}: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`numgate: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 70;
  }
}
