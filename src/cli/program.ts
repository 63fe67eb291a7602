/**
 * numgate's command line: argument parsing only; the work happens in the layers it calls.
 * Run by src/cli/main.ts (sources, through tsx) and by the built CLI's loader (dist/cli/main.cjs,
 * see src/cli/bundle-loader.ts).
 *
 * Start-up is most of a short command's wall time, so a command's module is imported only when
 * that command is on the command line: `--version` loads commander and nothing else. The full
 * command list (`--help`, no command, an unknown command) imports every command's module, which
 * declares its options only: the work (and with it onnxruntime-node, yaml, zod and the report
 * renderers) is imported inside each action.
 */
import { Command, CommanderError } from "commander";
import { isNumgateError } from "../errors/numgate-error.ts";
// Not through the report builder, which would load onnxruntime for `--version`.
import { useExternalImporter } from "../files/external-import.ts";
import { packageVersion } from "../files/package-root.ts";
import { configureHashCache } from "../files/hash-cache.ts";
import { configureParsedCache } from "../spec/parsed-cache.ts";

type Register = (program: Command, root: string) => Promise<void>;

const registerGate: Register = async (program, root) => (await import("./gate-command.ts")).registerGateCommand(program, root);
const registerCalibrate: Register = async (program, root) => (await import("./calibrate-command.ts")).registerCalibrateCommand(program, root);
const registerPositions: Register = async (program) => (await import("./positions-command.ts")).registerPositionsCommand(program);
const registerReports: Register = async (program) => (await import("./report-commands.ts")).registerReportCommands(program);

/** Which module declares each command; the order of the distinct modules is the order of --help. */
const registrationOf: Record<string, Register> = {
  gate: registerGate,
  calibrate: registerCalibrate,
  positions: registerPositions,
  render: registerReports,
  diff: registerReports,
  merge: registerReports,
  engine: async (program, root) => (await import("./engine-command.ts")).registerEngineCommand(program, root),
  "import-transcript": async (program, root) => (await import("./transcript-command.ts")).registerTranscriptCommand(program, root),
};

/**
 * The registrations that `args` (argv without node and the script) needs. The root program takes
 * no option with a value, so its first operand is the command (`help <command>`: the second).
 */
function registrationsFor(args: readonly string[]): Register[] {
  const operands = args.filter((a) => !a.startsWith("-"));
  const named = operands[0] === "help" ? operands[1] : operands[0];
  const one = named === undefined ? undefined : registrationOf[named];
  if (one !== undefined) return [one];
  const versionOnly = named === undefined && args.some((a) => a === "-V" || a === "--version") && !args.some((a) => a === "-h" || a === "--help");
  if (versionOnly) return [];
  return [...new Set(Object.values(registrationOf))];
}

export interface MainOptions {
  /** Where parsed YAML files are kept between runs (src/spec/parsed-cache.ts); the built CLI's. */
  parsedCache?: { dir: string; parser: string };
  /** Where input files' hashes are remembered by file identity (src/files/hash-cache.ts). */
  hashCache?: { dir: string };
  /** The built CLI's loader's own `import()`, for packages it does not bundle (src/files/external-import.ts). */
  importExternal?: (specifier: string) => Promise<unknown>;
}

/** Runs one command line (`argv` as process.argv: node and the script first); sets process.exitCode. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<void> {
  configureParsedCache(options.parsedCache);
  configureHashCache(options.hashCache?.dir);
  if (options.importExternal !== undefined) useExternalImporter(options.importExternal);
  const root = process.env["NUMGATE_ROOT"] ?? process.cwd();
  const program = new Command();
  program.name("numgate").description("Numerics gates for ML model conversions, against recorded fp32 transformers oracles").version(packageVersion());
  program.exitOverride();
  // Commander's usage errors ("error: unknown option '--x'") in numgate's own form.
  program.configureOutput({ outputError: (message, write) => write(`numgate: ${message.replace(/^error: /, "")}`) });

  try {
    for (const register of registrationsFor(argv.slice(2))) await register(program, root);
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander exits 1 on a usage error, which would read as a failed gate: usage errors exit 2.
      if (e.exitCode !== 0 && e.code === "commander.help") process.stderr.write("numgate: missing command (see the list above)\n");
      process.exitCode = e.exitCode === 0 ? 0 : 2;
    } else if (isNumgateError(e) && (await import("../spec/yaml.ts")).isSpecError(e)) {
      // A spec error's message already names file:line:col, so it is printed without a code.
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
}
