/**
 * The compiled CLI that `npm ci` builds (the `prepare` script) and that `npm run gate` and
 * bin/numgate.cjs run. Start-up time is measured by `npm run bench`, not asserted here.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NumgateError } from "../../src/errors/numgate-error.ts";
import { readReport } from "../../src/report/json.ts";
import { GateSpecSchema } from "../../src/spec/gate-spec.ts";
import { loadYamlFile, SpecError } from "../../src/spec/yaml.ts";
import { REPO, SOURCES_CLI } from "../helpers/cli.ts";

const packageVersion = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

function numgate(script: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, script), ...args], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the built CLI", () => {
  it("exists after install: dist/cli/main.cjs, built from src/ by npm ci", () => {
    expect(existsSync(join(REPO, "dist", "cli", "main.cjs")), "dist/cli/main.cjs is missing; npm ci (or npm run build) builds it").toBe(true);
  });

  it("dist/cli/main.cjs --version prints the package version", () => {
    const r = numgate("dist/cli/main.cjs", "--version");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(packageVersion);
  });

  it("bin/numgate.cjs --version prints the package version (rebuilding dist/ first if src/ changed)", () => {
    const r = numgate("bin/numgate.cjs", "--version");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(packageVersion);
  });

  it("the bundle is ASCII (the loader reads it as latin1), and renders non-ASCII text as the sources do", () => {
    const bundle = readdirSync(join(REPO, "dist", "cli")).find((f) => /^numgate-.*\.cjs$/.test(f));
    expect(bundle).toBeDefined();
    const bytes = readFileSync(join(REPO, "dist", "cli", bundle ?? ""));
    expect(bytes.findIndex((b) => b > 0x7f), "first non-ASCII byte of the bundle").toBe(-1);
    // A recorded report whose HTML has em dashes (html`—`, escaped as \u2014 in the bundle).
    const out = mkdtempSync(join(tmpdir(), "numgate-ascii-"));
    try {
      const report = join(REPO, "tests", "fixtures", "report", "recorded-report.json");
      const built = spawnSync(process.execPath, [join(REPO, "dist", "cli", "main.cjs"), "render", report, "--out", join(out, "built")], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
      expect(built.status, built.stderr).toBe(0);
      const sources = spawnSync(process.execPath, [...SOURCES_CLI, "render", report, "--out", join(out, "sources")], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
      expect(sources.status, sources.stderr).toBe(0);
      const html = readFileSync(join(out, "built", "report.html"), "utf8");
      expect(html).toContain("\u2014");
      expect(html).toBe(readFileSync(join(out, "sources", "report.html"), "utf8"));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("imports transformers.js (not bundled) on every run, the ones compiled from the code cache too", () => {
    // Node 20 gives a script compiled from a code cache no dynamic-import callback: this candidate's
    // runs errored from the second one on (src/files/external-import.ts). Its expected verdict is fail.
    const out = mkdtempSync(join(tmpdir(), "numgate-tjs-import-"));
    try {
      for (const run of [1, 2]) {
        const dir = join(out, `run-${run}`);
        const r = spawnSync(process.execPath, [join(REPO, "dist", "cli", "main.cjs"), "gate", "qwen3.5-tiny", "-c", "tjs-runtime-fp32", "-q", "--report-dir", dir], { cwd: REPO, encoding: "utf8", timeout: 120_000 });
        expect(r.stderr, `run ${run}`).not.toMatch(/internal|ERR_VM_DYNAMIC_IMPORT|ExperimentalWarning/);
        expect(r.status, `run ${run}: ${r.stderr}`).toBe(1);
        expect(readReport(join(dir, "report.json")).runs[0]?.verdict, `run ${run}`).toBe("fail");
      }
      expect(readdirSync(join(REPO, "dist", "cli", ".v8-cache")).some((f) => f.includes(".gate.")), "the gate command's code cache").toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("--help still lists every command", () => {
    const r = numgate("dist/cli/main.cjs", "--help");
    expect(r.code, r.stderr).toBe(0);
    for (const command of ["gate", "calibrate", "positions", "render", "diff", "merge"]) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  it("bin/numgate.cjs runs a gate without running an ES module (node's module jobs never load)", () => {
    // An ES module entry (bin/ and the loader were .js in a "type": "module" package) set up node's
    // ES module loader on every command; CommonJS all the way to the bundle does not.
    const out = mkdtempSync(join(tmpdir(), "numgate-cjs-entry-"));
    try {
      const listModules = join(out, "list-modules.cjs");
      writeFileSync(listModules, 'process.on("exit", () => process.stderr.write("\\nMODULES " + process.moduleLoadList.join(",") + "\\n"));\n');
      const r = spawnSync(process.execPath, ["--require", listModules, join(REPO, "bin", "numgate.cjs"), "gate", "qwen3-vl-tiny", "-r", "positions", "-q", "--report-dir", join(out, "reports")], {
        cwd: REPO,
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const modules = (/^MODULES (.*)$/m.exec(r.stderr)?.[1] ?? "").split(",");
      expect(modules, "the module list was printed").toContain("NativeModule vm");
      expect(modules.filter((m) => m.includes("esm/module_job"))).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  describe("onnxruntime-node's JavaScript is in the bundle, its addon from the installed package", () => {
    // Which files node's module loader read, from a preloaded module that lists require.cache.
    const loadedFiles = (args: string[]) => {
      const out = mkdtempSync(join(tmpdir(), "numgate-ort-bundled-"));
      try {
        const listCache = join(out, "list-cache.cjs");
        writeFileSync(listCache, 'process.on("exit", () => process.stderr.write("\\nCACHED " + JSON.stringify(Object.keys(require.cache)) + "\\n"));\n');
        const r = spawnSync(process.execPath, ["--require", listCache, join(REPO, "bin", "numgate.cjs"), ...args, "-q", "--report-dir", join(out, "reports")], { cwd: REPO, encoding: "utf8", timeout: 120_000 });
        const files = JSON.parse(/^CACHED (.*)$/m.exec(r.stderr)?.[1] ?? "[]") as string[];
        return { status: r.status, stderr: r.stderr, files, report: r.status === 0 || r.status === 1 ? readReport(join(out, "reports", "report.json")) : undefined };
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    };

    it("a gate run reads none of its .js files, only the addon", () => {
      const r = loadedFiles(["gate", "qwen3-vl-tiny", "-r", "positions"]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.files.filter((f) => /onnxruntime-(node|common)[\\/].*\.js$/.test(f))).toEqual([]);
      expect(r.files.filter((f) => f.endsWith("onnxruntime_binding.node"))).toHaveLength(1);
    });

    it("transformers.js in the same process gets numgate's instance: the package's own binding.js is never loaded", () => {
      // Two copies would share the one addon, which makes outputs with the Tensor class of the copy
      // that initialised it last (src/backends/transformers-js/shared-onnxruntime.ts).
      const r = loadedFiles(["gate", "qwen3.5-tiny", "-c", "fp32,tjs-runtime-fp32", "--keep-going"]);
      expect(r.status, r.stderr).toBe(1);
      expect(r.report?.runs.map((run) => [run.candidate, run.verdict])).toEqual([
        ["fp32", "pass"],
        ["tjs-runtime-fp32", "fail"],
      ]);
      expect(r.files.filter((f) => /onnxruntime-node[\\/]dist[\\/](binding|backend)\.js$/.test(f))).toEqual([]);
    });
  });

  it("a gate run loads neither node:child_process nor node:tty, and still colours its summary when asked", () => {
    // scripts/build.mjs leaves chalk's terminal probe out of the bundle and makes commander load
    // child_process on first use; numgate gives chalk its level itself (FORCE_COLOR here).
    const out = mkdtempSync(join(tmpdir(), "numgate-modules-"));
    try {
      const listModules = 'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nMODULES "+process.moduleLoadList.join(",")+"\\n"))';
      const r = spawnSync(process.execPath, ["--import", listModules, join(REPO, "dist", "cli", "main.cjs"), "gate", "qwen3-vl-tiny", "-r", "positions", "--report-dir", out], {
        cwd: REPO,
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, FORCE_COLOR: "1", NO_COLOR: "" },
      });
      expect(r.status, r.stderr).toBe(0);
      const modules = (/^MODULES (.*)$/m.exec(r.stderr)?.[1] ?? "").split(",");
      expect(modules, "the module list was printed").toContain("NativeModule vm");
      expect(modules.filter((m) => /child_process|\btty\b/.test(m))).toEqual([]);
      expect(r.stdout).toContain("\u001b[32mnumgate: all gates passed\u001b[39m");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("the built CLI's schema messages", () => {
  // The bundle carries zod's English locale alone (scripts/build.mjs, zod-english-only): its
  // messages must be the ones the sources give, which the other tests assert.
  const cli = (cwd: string, ...args: string[]) =>
    spawnSync(process.execPath, [join(REPO, "dist", "cli", "main.cjs"), ...args], { cwd, encoding: "utf8", timeout: 60_000, env: { ...process.env, NUMGATE_ROOT: cwd, NO_COLOR: "1" } });

  it("a spec's wrongly typed and out-of-range settings read as the sources' loader words them", () => {
    const root = mkdtempSync(join(tmpdir(), "numgate-startup-messages-"));
    try {
      mkdirSync(join(root, "gates"));
      cpSync(join(REPO, "ladders"), join(root, "ladders"), { recursive: true });
      const spec = readFileSync(join(REPO, "gates", "qwen3-vl-tiny.yaml"), "utf8")
        .replace(/^default_candidate: fp32$/m, "default_candidate: 5")
        .replace(/^  min_tokens: 24$/m, "  min_tokens: -3");
      writeFileSync(join(root, "gates", "qwen3-vl-tiny.yaml"), spec);
      let expected: SpecError | undefined;
      try {
        loadYamlFile(join(root, "gates", "qwen3-vl-tiny.yaml"), GateSpecSchema, "gate spec");
      } catch (e) {
        if (e instanceof SpecError) expected = e;
      }
      expect(expected?.issues.length).toBe(2);
      const r = cli(root, "gate", "qwen3-vl-tiny", "--quiet");
      for (const issue of expected?.issues ?? []) expect(r.stderr).toContain(`${issue.line}:${issue.column}: ${issue.field}: ${issue.message}`);
      // The second run reads the spec's data from the built CLI's parsed cache (the first stored
      // it): its faults are still found and located alike.
      const again = cli(root, "gate", "qwen3-vl-tiny", "--quiet");
      expect([again.status, again.stderr]).toEqual([r.status, r.stderr]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("a report that fails its schema is refused with zod's own message, as the sources give it", () => {
    const dir = mkdtempSync(join(tmpdir(), "numgate-startup-messages-"));
    try {
      const report = JSON.parse(readFileSync(join(REPO, "tests", "fixtures", "report", "recorded-report.json"), "utf8")) as Record<string, unknown>;
      writeFileSync(join(dir, "bad.json"), JSON.stringify({ ...report, generated_at: "yesterday" }));
      let expected: NumgateError | undefined;
      try {
        readReport(join(dir, "bad.json"));
      } catch (e) {
        if (e instanceof NumgateError) expected = e;
      }
      const words = /generated_at: (.*)$/.exec(expected?.message ?? "")?.[1];
      expect(words).toMatch(/^Invalid ISO datetime/);
      const r = cli(dir, "render", "bad.json", "--out", join(dir, "out"));
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`bad.json: generated_at: ${words ?? "?"}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
