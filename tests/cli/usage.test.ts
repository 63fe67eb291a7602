/**
 * Usage errors exit 2 with a `numgate: ...` message, like every other usage error and unlike a
 * failed gate (1); --help and --version exit 0. Spawns the real CLI; nothing here runs a model.
 */
import { describe, expect, it } from "vitest";
import { background, runCli } from "../helpers/cli.ts";

const USAGE_ERRORS: { args: string[]; message: string }[] = [
  { args: ["gate", "--frobnicate"], message: "numgate: unknown option '--frobnicate'" },
  { args: ["gat"], message: "numgate: unknown command 'gat'\n(Did you mean gate?)" },
  { args: ["render"], message: "numgate: missing required argument 'report.json'" },
  { args: ["calibrate", "--reference", "fp16"], message: "numgate: missing required argument 'model'" },
  { args: ["positions", "--in", "cases.json"], message: "numgate: required option '--out <file>' not specified" },
  { args: ["gate", "--shard", "3/2"], message: `numgate: option '--shard <i/n>' argument '3/2' is invalid. expected "i/n" with 1 <= i <= n (e.g. "2/4"), got "3/2"` },
  { args: ["gate", "--shard"], message: "numgate: option '--shard <i/n>' argument missing" },
  { args: ["calibrate", "m", "--reference", "fp16", "--headroom", "lots"], message: "numgate: option '--headroom <x>' argument 'lots' is invalid. expected a positive number, e.g. 10" },
  { args: ["diff", "a.json", "b.json", "--tolerance", "-1"], message: "numgate: option '--tolerance <x>' argument '-1' is invalid. expected a non-negative number, e.g. 1e-6" },
  { args: ["render", "a.json", "b.json"], message: "numgate: too many arguments for 'render'. Expected 1 argument but got 2." },
];

describe("usage errors", () => {
  // Started together: each is a whole CLI start-up.
  const runs = USAGE_ERRORS.map((u) => ({ ...u, result: background(() => runCli(u.args)) }));

  for (const run of runs) {
    it(`numgate ${run.args.join(" ")}: exit 2, ${run.message.split("\n")[0] ?? ""}`, async () => {
      const r = await run.result;
      expect(r.code, r.transcript).toBe(2);
      expect(r.stderr.trim()).toBe(run.message);
      expect(r.stdout).toBe("");
    });
  }

  it("no command: the help on stderr, then what is missing; exit 2", async () => {
    const r = await runCli([]);
    expect(r.code, r.transcript).toBe(2);
    expect(r.stderr).toContain("Usage: numgate [options] [command]");
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe("numgate: missing command (see the list above)");
  });

  it("--help, help <command> and --version exit 0 on stdout", async () => {
    const [help, gateHelp, version] = await Promise.all([runCli(["--help"]), runCli(["help", "gate"]), runCli(["--version"])]);
    for (const r of [help, gateHelp, version]) {
      expect(r.code, r.transcript).toBe(0);
      expect(r.stderr).toBe("");
    }
    expect(help.stdout).toContain("Usage: numgate [options] [command]");
    expect(gateHelp.stdout).toContain("Usage: numgate gate [options] [models...]");
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
