#!/usr/bin/env node
/**
 * `npm run build` (and `prepare`, so `npm ci` runs it): type-checks src/ with tsc, then bundles
 * the CLI with esbuild into dist/cli/:
 *   numgate-<hash>.cjs  src/cli/program.ts and all it imports (zod, yaml, commander, chalk,
 *                       protobufjs included), one CommonJS module, stored inside its function
 *                       wrapper (see below);
 *   main.cjs            src/cli/bundle-loader.ts: runs that file through a V8 code cache
 *                       (CommonJS, as bin/numgate.cjs: see bundle-loader.ts).
 *
 * Why a bundle rather than tsc's file-for-file output: a tiny gate run spent ~200 ms of its ~580 ms
 * loading ~140 numgate modules, ~95 of zod's and yaml's ~60 CommonJS files, each resolved,
 * stat-ed, read and compiled on its own; and most of what remained of start-up was V8 compiling
 * functions on first call, which a code cache saves (see bundle-loader.ts; CommonJS because Node
 * 20 caches no ES module code). Commands still import their work lazily: esbuild keeps a
 * dynamically imported module's evaluation for when it is imported, so `--help` evaluates no
 * yaml, zod or report code, and nothing loads onnxruntime before a command needs it.
 *
 * Not bundled: onnxruntime-node's native addon (loaded from its installed package, see
 * onnxruntimeAddonFromItsPackage) and @huggingface/transformers (large, only for the
 * transformers-js backend, with native and wasm files of its own); both come from node_modules at
 * run time.
 * dist/sources.json lists the src/ files the bundle is built from (what bin/numgate.cjs stats).
 * dist/meta.json is esbuild's metafile; it is written last, so bin/numgate.cjs takes its time as
 * the build's.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
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
/**
 * zod re-exports all its ~50 locales as `z.locales` (about 390 KB, a fifth of the bundle) though
 * it only ever configures English (classic/schemas.js imports en.js itself) and numgate never
 * reads `z.locales`. Its locales index is replaced by one that exports `en` alone, the same
 * module, so every message is the one zod would give.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|core|mini)$/.test(args.resolveDir) ? { path: join(args.resolveDir, "..", "locales", "index.js"), namespace: "zod-locales" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      resolveDir: dirname(args.path),
      loader: "js",
    }));
  },
};
/**
 * chalk probes the terminal when it is imported (its vendored supports-color: isatty, TERM,
 * COLORTERM, the OS release), for the level of its default instance. numgate never uses that
 * instance: it builds its own with the level it decided (`new Chalk({ level })` in
 * src/report/console.ts and diff.ts: colour only on a TTY, never with NO_COLOR). The probe loaded
 * node:tty and node:os for every command, ~2 ms of a tiny gate run, so it is replaced by a module
 * that reports no colour support; chalk then only reads it for an instance made without a level.
 */
const chalkWithoutProbe = {
  name: "chalk-without-probe",
  setup(b) {
    b.onResolve({ filter: /^#supports-color$/ }, (args) =>
      /[\\/]node_modules[\\/]chalk[\\/]source$/.test(args.resolveDir) ? { path: "supports-color", namespace: "chalk-no-probe" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "chalk-no-probe" }, () => ({
      contents: "export default { stdout: false, stderr: false };\n",
      loader: "js",
    }));
  },
};
/**
 * commander requires node:child_process when it is loaded, for the one thing it uses it for:
 * running a subcommand as a separate executable, which numgate's commands never are. Loading it
 * (with net, dgram and the stream wraps it pulls in) was ~2.5 ms of every command, so the bundle
 * gets it on first use instead. The build fails if commander's source no longer has the line.
 */
const commanderLazyChildProcess = {
  name: "commander-lazy-child-process",
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const eager = "const childProcess = require('node:child_process');";
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(eager)) throw new Error(`build: ${args.path} no longer has "${eager}"; update the commander-lazy-child-process plugin`);
      const lazy = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
      return { contents: source.replace(eager, lazy), loader: "js" };
    });
  },
};
/**
 * onnxruntime-node's JavaScript (its dist/ and onnxruntime-common's, ~25 CommonJS files) is
 * bundled: node resolving, reading and compiling them one by one was ~10 ms of every gate run's
 * start-up, more than all of numgate's own module code (a require of it alone: 12-15 ms; the tiny
 * gate, 24 interleaved pairs: wall 0.947x, CPU 0.960x). Its native addon cannot be bundled:
 * binding.js loads it relative to its own file, which in the bundle would be dist/, so that one
 * require is rewritten to load the addon from the installed package (resolved at run time, wherever
 * npm put it). The build fails if binding.js no longer loads it that way.
 * transformers.js, which is not bundled, would load the package's own copy of these files; it is
 * handed numgate's instead (src/backends/transformers-js/shared-onnxruntime.ts).
 */
const onnxruntimeAddonFromItsPackage = {
  name: "onnxruntime-addon-from-its-package",
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, (args) => {
      const relative = "require(`../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`)";
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(relative)) throw new Error(`build: ${args.path} no longer has "${relative}"; update the onnxruntime-addon-from-its-package plugin`);
      const fromPackage =
        'require(require("node:path").join(require("node:path").dirname(require.resolve("onnxruntime-node/package.json")), "bin", "napi-v6", process.platform, process.arch, "onnxruntime_binding.node"))';
      return { contents: source.replace(relative, fromPackage), loader: "js" };
    });
  },
};
const result = await build({
  absWorkingDir: root,
  entryPoints: { "cli/numgate": "src/cli/program.ts" },
  plugins: [onnxruntimeAddonFromItsPackage, zodEnglishOnly, chalkWithoutProbe, commanderLazyChildProcess],
  entryNames: "[dir]/[name]-[hash]",
  outdir: dist,
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  external: ["@huggingface/transformers"],
  // The addon's path is resolved at run time on purpose (onnxruntime-addon-from-its-package).
  logOverride: { "require-resolve-not-external": "silent" },
  outExtension: { ".js": ".cjs" },
  // CommonJS has no import.meta: the bundle's own URL stands in (src/files/package-root.ts).
  define: { "import.meta.url": "__numgateBundleUrl" },
  banner: { js: 'const __numgateBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
});
const bundle = Object.keys(result.metafile.outputs).find((f) => f.endsWith(".cjs"));
if (bundle === undefined) throw new Error("build: esbuild wrote no .cjs bundle");
// ASCII only, so that the loader reads the bundle as a one-byte string (bundle-loader.ts). esbuild
// escapes strings and names already; what it leaves are a few comments it keeps (zod's, our JSDoc)
// and template literals, where a \u escape is the same character (numgate's html tag reads the
// cooked strings). One non-ASCII character made the whole 1.5 MB a two-byte string: ~3 ms more to
// read it and ~2 ms more to compile it through the code cache, on every command.
//
// The file is written already inside the function wrapper node gives a CommonJS module, so that the
// loader compiles the text it read as it is: node reads a file of more than ~1 MB as an external
// string, outside V8's heap, while adding the wrapper in the loader copied all 1.5 MB onto the heap,
// where it counted towards the size at which V8 starts a full collection. So the file is the
// wrapped function, not a module to require.
const bundlePath = join(root, bundle);
const bundleText = readFileSync(bundlePath, "utf8");
const asciiText = bundleText.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
writeFileSync(bundlePath, `(function (exports, require, module, __filename, __dirname) {${asciiText}\n})`);
const loader = await build({
  absWorkingDir: root,
  entryPoints: { "cli/main": "src/cli/bundle-loader.ts" },
  outdir: dist,
  outExtension: { ".js": ".cjs" },
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  define: { NUMGATE_BUNDLE: JSON.stringify(basename(bundle)) },
  metafile: true,
  logLevel: "warning",
});
// The sources the bundle is built from, for bin/numgate.cjs's staleness check: a stat each, instead
// of walking src/ (a recursive readdir was most of `--version`'s own work). A source that is not
// among them cannot change the bundle until a listed one is edited to import it.
const sources = [...Object.keys(result.metafile.inputs), ...Object.keys(loader.metafile.inputs)].filter((f) => f.startsWith("src/"));
writeFileSync(join(dist, "sources.json"), JSON.stringify(sources));
const metafile = { inputs: { ...result.metafile.inputs, ...loader.metafile.inputs }, outputs: { ...result.metafile.outputs, ...loader.metafile.outputs } };
writeFileSync(join(dist, "meta.json"), JSON.stringify(metafile));
