/** `numgate calibrate <model> --reference <candidate>`: thresholds from a healthy build's noise floor. */
import { InvalidArgumentError } from "commander";
import type { Command } from "commander";
import { NumgateError } from "../errors/numgate-error.ts";

function parseHeadroom(value: string): number {
  const x = Number(value);
  if (value.trim() === "" || !Number.isFinite(x) || x <= 0) throw new InvalidArgumentError("expected a positive number, e.g. 10");
  return x;
}

export function registerCalibrateCommand(program: Command, root: string): void {
  program
    .command("calibrate")
    .description("run a healthy reference candidate, measure its noise floor per rung, and write thresholds into the gate spec")
    .argument("<model>", "gate spec in gates/")
    .requiredOption("--reference <candidate>", "the healthy build to measure (e.g. fp16 or int8)")
    .option("--to <candidate>", "candidate whose thresholds are written (default: the reference)")
    .option("--headroom <x>", "multiple of the measured error the threshold allows (default 10)", parseHeadroom, 10)
    .option("--dry-run", "print the thresholds without writing the spec")
    .action(async (model: string, opts: { reference: string; to?: string; headroom: number; dryRun?: boolean }) => {
      // Imported here, not at the top: `--help` need not load the gate pipeline.
      const [{ calibrateRun, writeCalibration }, { resolveSpec }, { runGate }] = await Promise.all([
        import("../calibrate/calibrate.ts"),
        import("../run/resolve.ts"),
        import("../run/run-gate.ts"),
      ]);
      const spec = resolveSpec(root, model);
      const r = await runGate({ root, model, candidate: opts.reference, keepGoing: true, spec });
      if (r.run.verdict === "error") {
        const first = r.run.rungs.find((g) => g.verdict === "error");
        throw new NumgateError("candidate_invalid", `reference ${opts.reference} could not be run: ${first?.error?.message ?? first?.message ?? "setup failed"}`);
      }
      const { calibrated: cal, notCalibrated } = calibrateRun(r.run, opts.headroom);
      for (const c of cal) {
        process.stdout.write(`${c.rung}: ${Object.entries(c.thresholds).map(([k, v]) => `${k} ${v}`).join(", ")}   (floor ${Object.entries(c.floor).map(([k, v]) => `${k} ${v}`).join(", ")})\n`);
      }
      for (const n of notCalibrated) process.stdout.write(`${n.rung}: not calibrated (${n.reason})\n`);
      if (opts.dryRun !== true) {
        const date = new Date().toISOString().slice(0, 10);
        writeCalibration(spec.specPath, opts.to ?? opts.reference, opts.reference, cal, date, opts.headroom);
        process.stdout.write(`wrote thresholds for ${opts.to ?? opts.reference} into ${spec.specPath}\n`);
      }
    });
}
