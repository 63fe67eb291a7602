#!/usr/bin/env node
// numgate's published CLI: the compiled JavaScript in dist/, run in this very process. Start-up
// was about three quarters of a tiny gate run when this spawned a second node running tsx, so
// neither tsx nor a child process is on this path.
//
// dist/ is built by `npm run build`, which the `prepare` script runs on `npm ci` / `npm install`
// (and before `npm pack`, so a published package ships it). In a development checkout, one whose
// own node_modules holds TypeScript (a devDependency), a src/ file newer than its dist/ output
// means dist/ is stale: it is rebuilt here first (seconds, and only after an edit), so an edit is
// never silently ignored; the check costs a stat per source file. An installed package is not
// checked: it is not edited, and unpacking gives its files arbitrary times.
// `npm run dev -- <args>` runs src/ through tsx without a build; the tests (vitest) run src/ too.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const srcDir = join(packageRoot, "src");
const distDir = join(packageRoot, "dist");
const tsc = join(packageRoot, "node_modules", "typescript", "bin", "tsc");

/** A src/ file whose dist/ output is missing or older, or undefined when dist/ is current. */
function staleSource() {
  for (const rel of readdirSync(srcDir, { recursive: true })) {
    if (!rel.endsWith(".ts") || rel.endsWith(".d.ts")) continue;
    const output = statSync(join(distDir, `${rel.slice(0, -".ts".length)}.js`), { throwIfNoEntry: false });
    if (output === undefined || statSync(join(srcDir, rel)).mtimeMs > output.mtimeMs) return rel;
  }
  return undefined;
}

const isDevelopmentCheckout = existsSync(tsc) && existsSync(srcDir);
const stale = isDevelopmentCheckout ? staleSource() : undefined;
if (stale !== undefined) {
  process.stderr.write(`numgate: dist/ is out of date (src/${stale} changed); rebuilding it (npm run build)\n`);
  const r = spawnSync(process.execPath, [tsc, "-p", join(packageRoot, "tsconfig.build.json")], { stdio: "inherit" });
  if (r.status !== 0) {
    process.stderr.write("numgate: the build failed (above); fix it, or run the sources directly with npm run dev -- <args>\n");
    process.exit(1);
  }
} else if (!existsSync(join(distDir, "cli", "main.js"))) {
  process.stderr.write("numgate: dist/ has not been built; run npm ci (or npm run build)\n");
  process.exit(1);
}
await import("../dist/cli/main.js");
