#!/usr/bin/env node
// numgate's published CLI: the compiled JavaScript in dist/, run in this very process. Start-up
// was about three quarters of a tiny gate run when this spawned a second node running tsx, so
// neither tsx nor a child process is on this path. CommonJS, as is dist/cli/main.cjs: an ES module
// entry costs every command the set-up of node's ES module loader (src/cli/bundle-loader.ts).
//
// dist/ is built by `npm run build` (scripts/build.mjs: tsc type-checks, esbuild bundles), which
// the `prepare` script runs on `npm ci` / `npm install` (and before `npm pack`, so a published
// package ships it). In a development checkout, one whose own node_modules holds esbuild (a
// devDependency), a src/ file, package.json, package-lock.json or scripts/build.mjs newer than the
// build (the time of dist/meta.json, written last) means dist/ is stale: it is rebuilt here first
// (seconds, and only after an edit), so an edit is never silently ignored; the check costs a stat
// per source file the bundle was built from (dist/sources.json; a file it does not list changes
// nothing until a listed one imports it, and is then newer than the build itself).
// An installed package is not checked: it is not edited, and unpacking gives its files arbitrary
// times.
// `npm run dev -- <args>` runs src/ through tsx without a build; the tests (vitest) run src/ too.
"use strict";
const { existsSync, readdirSync, readFileSync, statSync } = require("node:fs");
const { join } = require("node:path");

// With its trailing separator: source paths are appended to it (see staleSource).
const packageRoot = join(__dirname, "..", "/");
const srcDir = join(packageRoot, "src");
const builtAt = statSync(join(packageRoot, "dist", "meta.json"), { throwIfNoEntry: false })?.mtimeMs;
const buildScript = join(packageRoot, "scripts", "build.mjs");

/** Why dist/ is stale (a file it is built from changed after it), or undefined when it is current. */
function staleSource() {
  if (builtAt === undefined) return "never built";
  let sources;
  try {
    sources = JSON.parse(readFileSync(join(packageRoot, "dist", "sources.json"), "utf8"));
  } catch {
    // A build from before dist/sources.json: every source file, as that build's own check did.
    sources = readdirSync(srcDir, { recursive: true }).filter((rel) => rel.endsWith(".ts")).map((rel) => `src/${rel}`);
  }
  for (const rel of sources) {
    // Concatenated, not path.join-ed: the names come from the build, relative and normalised, and
    // join() on ~150 of them was a few ms of cold code on every command.
    const mtimeMs = statSync(packageRoot + rel, { throwIfNoEntry: false })?.mtimeMs;
    if (mtimeMs === undefined) return `${rel} was removed`;
    if (mtimeMs > builtAt) return `${rel} changed`;
  }
  for (const f of ["package.json", "package-lock.json", "scripts/build.mjs"]) {
    if ((statSync(join(packageRoot, f), { throwIfNoEntry: false })?.mtimeMs ?? 0) > builtAt) return `${f} changed`;
  }
  return undefined;
}

const isDevelopmentCheckout = existsSync(join(packageRoot, "node_modules", "esbuild")) && existsSync(srcDir) && existsSync(buildScript);
const stale = isDevelopmentCheckout ? staleSource() : undefined;
if (stale !== undefined) {
  process.stderr.write(`numgate: dist/ is out of date (${stale}); rebuilding it (npm run build)\n`);
  // Required here only: loading node:child_process was a tenth of `--version`.
  const { spawnSync } = require("node:child_process");
  const r = spawnSync(process.execPath, [buildScript], { stdio: "inherit" });
  if (r.status !== 0) {
    process.stderr.write("numgate: the build failed (above); fix it, or run the sources directly with npm run dev -- <args>\n");
    process.exit(1);
  }
} else if (!existsSync(join(packageRoot, "dist", "cli", "main.cjs"))) {
  process.stderr.write("numgate: dist/ has not been built; run npm ci (or npm run build)\n");
  process.exit(1);
}
require("../dist/cli/main.cjs");
