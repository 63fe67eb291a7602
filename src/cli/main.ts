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
// Commander's usage errors ("error: unknown option '--x'") in numgate's own form.
program.configureOutput({ outputError: (message, write) => write(`numgate: ${message.replace(/^error: /, "")}`) });
registerGateCommand(program, root);
registerCalibrateCommand(program, root);
registerPositionsCommand(program);
registerReportCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander exits 1 on a usage error, which would read as a failed gate: usage errors exit 2.
    if (e.exitCode !== 0 && e.code === "commander.help") process.stderr.write("numgate: missing command (see the list above)\n");
    process.exitCode = e.exitCode === 0 ? 0 : 2;
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
