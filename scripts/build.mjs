#!/usr/bin/env node
/**
 * `npm run build` (and `prepare`, so `npm ci` runs it): type-checks src/ with tsc, then bundles
 * the CLI with esbuild into dist/cli/: main.js plus chunks that each command imports when it runs.
 *
 * Why a bundle rather than tsc's file-for-file output: a tiny gate run spent ~200 ms of its ~580
 * ms loading ~140 numgate modules, ~95 of zod's and yaml's ~60 CommonJS files, each resolved,
 * stat-ed, read and compiled on its own. One chunk per lazy import cuts that to a handful of
 * files (measured in bench/startup.ts; figures in the commit that made this). Dynamic imports stay
 * dynamic (code splitting), so `--version` and `--help` still load no yaml, zod or onnxruntime.
 *
 * Not bundled: onnxruntime-node (a native addon that finds its binaries next to its own files) and
 * @huggingface/transformers (large, only for the transformers-js backend, with native and wasm
 * files of its own); both are imported from node_modules at run time.
 *
 * Every chunk sits in dist/cli/, two levels under the package root like src/<dir>/<file>.ts, so
 * src/files/package-root.ts finds the root the same way from both.
 * dist/meta.json is esbuild's metafile: which source files each chunk holds (tests/cli reads it to
 * check what a command loads). It is written last, so bin/numgate.js takes its time as the build's.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

// Type errors fail the build before anything is written, so dist/ stays as it was (and stale).
const tsc = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (tsc.status !== 0) {
  process.stderr.write("build: tsc found errors (above); dist/ left as it was\n");
  process.exit(1);
}

// A clean dist/: files of an older build layout (tsc's per-module output) must not linger.
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { "cli/main": "src/cli/main.ts" },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "cli/[name]-[hash]",
  external: ["onnxruntime-node", "@huggingface/transformers"],
  // Bundled CommonJS (yaml, protobufjs, commander) calls require() for node's built-ins.
  banner: { js: 'import { createRequire as __numgateCreateRequire } from "node:module";\nconst require = __numgateCreateRequire(import.meta.url);' },
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
});
writeFileSync(join(dist, "meta.json"), JSON.stringify(result.metafile));
