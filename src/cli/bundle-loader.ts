/**
 * The built CLI's entry (dist/cli/main.cjs, see scripts/build.mjs): runs the bundled CLI
 * (dist/cli/numgate-<hash>.cjs, src/cli/program.ts and everything it imports, in one file) through
 * a V8 code cache.
 *
 * Built as CommonJS, like bin/numgate.cjs that requires it: a process whose entry is an ES module
 * first sets up node's ES module loader, ~10 ms of every command (an empty .mjs against an empty
 * .cjs, whole processes); from CommonJS, nothing on a command's path loads it, and
 * `importExternal` below sets it up only when a command imports something outside the bundle.
 *
 * Why: a tiny gate run is mostly start-up, and most of that is V8 parsing and compiling numgate's,
 * zod's and yaml's code, function by function as each is first called. A code cache written after
 * a run holds the bytecode of every function that run compiled, so the next run of that command
 * deserializes instead of compiling (measured on the tiny gate: ~150 ms less of ~600 ms, paired
 * runs; `npm run bench`). Node 20 has no module compile cache for ES modules
 * (module.enableCompileCache is Node 22), hence a CommonJS bundle compiled through vm.Script, which
 * takes `cachedData`.
 *
 * The bundle is also handed a directory for parsed YAML files (src/spec/parsed-cache.ts), beside
 * the code cache and, like it, named for this build, and one for input files' hashes
 * (src/files/hash-cache.ts), which holds for any build.
 *
 * One cache per command (what `gate` compiles is not what `--version` compiles), node version and
 * architecture, in dist/cli/.v8-cache/. V8 itself refuses a cache of another V8 version or flags;
 * the bundle's content hash in its file name (and so in the cache's) keeps a cache from ever
 * meeting another build's code, which V8 would not notice when the lengths agree. A missing or
 * refused cache is written when the command ends with 0 or 1 (it ran: passed, or gates failed),
 * atomically (temporary file, then rename), and not at all where dist/ is read-only.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import vm from "node:vm";
import type { MainOptions } from "./program.ts";

/** The bundle's file name in dist/cli/, put here by scripts/build.mjs (esbuild's `define`). */
declare const NUMGATE_BUNDLE: string;

// CommonJS's own: this file runs as dist/cli/main.cjs.
const dir = __dirname;
const bundle = join(dir, NUMGATE_BUNDLE);
const argv = process.argv;
const command = argv.slice(2).find((a) => !a.startsWith("-")) ?? "none";
const cacheName = /^[a-z][a-z-]{0,31}$/.test(command) ? command : "other";
const cacheDir = join(dir, ".v8-cache");
const cacheFile = join(cacheDir, `${NUMGATE_BUNDLE}.${cacheName}.${process.version}.${process.arch}.bin`);

let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
// The file holds the bundle inside the wrapper node gives a CommonJS module (scripts/build.mjs), so
// the text is compiled as read: an external string outside V8's heap, not a 1.5 MB copy on it. The
// function gets no dynamic-import callback: Node 20 drops it for a script compiled from a code cache,
// so the bundle imports what it does not bundle through this module's own import()
// (`importExternal` below), which resolves from dist/cli/ as the bundle would.
// latin1: scripts/build.mjs writes the bundle in ASCII, which latin1 decodes as UTF-8 would, only
// faster, into the one-byte string V8 compiles fastest.
const script = new vm.Script(readFileSync(bundle, "latin1"), {
  filename: bundle,
  ...(cachedData === undefined ? {} : { cachedData }),
});
if (cachedData === undefined || script.cachedDataRejected === true) {
  process.once("exit", (code) => {
    if (code !== 0 && code !== 1) return;
    const temporary = `${cacheFile}.${process.pid}.tmp`;
    try {
      mkdirSync(cacheDir, { recursive: true });
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, cacheFile);
    } catch {
      // A read-only install runs without a cache; it is only slower.
      rmSync(temporary, { force: true });
    }
  });
}
const bundled = { exports: {} as { main?: (argv: readonly string[], options: MainOptions) => Promise<void> } };
(script.runInThisContext() as (...args: unknown[]) => void)(bundled.exports, createRequire(bundle), bundled, bundle, dir);
if (bundled.exports.main === undefined) throw new Error(`numgate: ${bundle} exports no main`);
// main() reports every error itself and sets the exit code; a rejection that still escaped it would
// surface as an uncaught error (exit 1), as under the ES module version's top-level await.
void bundled.exports.main(argv, {
  parsedCache: { dir: join(dir, ".parsed-cache"), parser: NUMGATE_BUNDLE },
  hashCache: { dir: join(dir, ".hash-cache") },
  importExternal: (specifier) => import(specifier),
});
