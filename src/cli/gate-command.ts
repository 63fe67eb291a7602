/**
 * `numgate gate [models...]`: runs ladders and writes report.json, junit.xml and report.html per
 * model into reports/<model>/ (or --report-dir). Exit code 0 only when every gate passed.
 * This module declares the command only; the run is in gate-run.ts, imported by the action.
 */
import { InvalidArgumentError } from "commander";
import type { Command } from "commander";
import { parseShard } from "../report/shard.ts";

export const DEFAULT_MODEL = "qwen3-vl-tiny";

export interface GateCommandOptions {
  candidate?: string[];
  allCandidates?: boolean;
  rung?: string[];
  reportDir?: string;
  keepGoing?: boolean;
  shard?: string;
  quiet?: boolean;
  ep?: string;
  threads?: number;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter((s) => s !== "")];
}

/** Checks `--shard` while the arguments are parsed, so that a bad value is a usage error. */
function shardOption(value: string): string {
  try {
    parseShard(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return value;
}

function threadsOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number of threads (1 or more), got "${value}"`);
  return n;
}

export function registerGateCommand(program: Command, root: string): void {
  program
    .command("gate")
    .description(`run the ladder for one or more models (default ${DEFAULT_MODEL}); exit 0 only when every gate passed`)
    .argument("[models...]", "gate specs in gates/ (by name)")
    .option("-c, --candidate <name|path>", "candidate name from the spec, or a candidate .json (repeatable, comma-separated)", collect)
    .option("--all-candidates", "run every candidate in the spec (planted faults included)")
    .option("-r, --rung <id>", "run only this rung (repeatable)", collect)
    .option("--report-dir <dir>", "write all reports here instead of reports/<model>/")
    .option("--keep-going", "run rungs even when a rung they depend on failed")
    .option("--shard <i/n>", "run the i-th of n slices of the (model, candidate) work list", shardOption)
    .option("-q, --quiet", "no progress or summary on the console (reports are still written)")
    .option("--ep <provider>", "execution provider for onnxruntime candidates: cpu, cuda, coreml, webgpu (where the installed onnxruntime-node has it)")
    .option("--threads <n>", "intra-op threads for onnxruntime candidates (default 1: reductions in one fixed order; more is faster at real model sizes and recorded in the report)", threadsOption)
    .action(async (models: string[], opts: GateCommandOptions) => {
      const { gateCommand } = await import("./gate-run.ts");
      const r = await gateCommand(root, models, opts);
      process.exitCode = r.exitCode;
    });
}
