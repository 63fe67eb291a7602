#!/usr/bin/env node
// numgate's published CLI: the compiled JavaScript in dist/, run in this very process. Start-up
// was about three quarters of a tiny gate run when this spawned a second node running tsx, so
// neither tsx nor a child process is on this path.
//
// dist/ is built by `npm run build`, which the `prepare` script runs on `npm ci` / `npm install`.
// In a checkout, a src/ file newer than its dist/ output means dist/ is stale: it is rebuilt here
// first (a few seconds, and only after an edit), so an edit is never silently ignored. The check
// costs a stat per source file. `npm run dev -- <args>` runs src/ through tsx without a build;
// the tests (vitest) also run src/ directly.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const srcDir = join(packageRoot, "src");
const distDir = join(packageRoot, "dist");

/** A src/ file whose dist/ output is missing or older, or undefined when dist/ is current. */
function staleSource() {
  // A package installed from the registry may ship dist/ alone: then it is all there is to run.
  if (!existsSync(srcDir)) return undefined;
  for (const rel of readdirSync(srcDir, { recursive: true })) {
    if (!rel.endsWith(".ts") || rel.endsWith(".d.ts")) continue;
    const output = statSync(join(distDir, `${rel.slice(0, -".ts".length)}.js`), { throwIfNoEntry: false });
    if (output === undefined || statSync(join(srcDir, rel)).mtimeMs > output.mtimeMs) return rel;
  }
  return undefined;
}

function rebuild(reason) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  } catch {
    process.stderr.write(`numgate: dist/ is out of date (${reason}) and TypeScript is not installed to rebuild it; run npm ci\n`);
    process.exit(1);
  }
  process.stderr.write(`numgate: dist/ is out of date (${reason}); rebuilding it (npm run build)\n`);
  const r = spawnSync(process.execPath, [tsc, "-p", join(packageRoot, "tsconfig.build.json")], { stdio: "inherit" });
  if (r.status !== 0) {
    process.stderr.write("numgate: the build failed (above); fix it, or run the sources directly with npm run dev -- <args>\n");
    process.exit(1);
  }
}

const stale = staleSource();
if (stale !== undefined) rebuild(`src/${stale} changed`);
await import("../dist/cli/main.js");
