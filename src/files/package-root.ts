/**
 * numgate's package root (where package.json and vendor/ are), from the running module's URL.
 * Sources run from src/<dir>/<file>.ts (tests, `npm run dev`) and the CLI from the bundle's
 * chunks in dist/cli/ (scripts/build.mjs), which may hold this code in any chunk: the nearest
 * folder above with a package.json is the root from both, whatever the depth.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`numgate: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  root = dir;
  return root;
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string };
  return pkg.version ?? "0.0.0";
}
