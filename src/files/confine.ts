/**
 * Paths named inside manifests are confined to the folder holding the manifest: a manifest is
 * data, and data must not be able to make numgate open `../../../etc/passwd`. A spec may allow
 * further roots explicitly (`allow_paths_outside`). Symbolic links are followed before the check,
 * so a link cannot smuggle a path out either.
 */
import { realpathSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { NumgateError } from "../errors/numgate-error.ts";

/**
 * The native realpath: node's own (JavaScript) one lstat-s every component of every path, which
 * was ~2 ms of a tiny gate run's start-up (a spec confines ~20 candidate paths).
 */
function real(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return resolve(p);
  }
}

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r));
}

/**
 * Resolves `named` (as written in the manifest field `field` of `manifest`) against `base`, and
 * refuses it when it lands outside `base` and every root in `allowed`.
 */
export function confinedPath(base: string, named: string, where: { manifest: string; field: string }, allowed: readonly string[] = []): string {
  const p = join(base, named);
  const target = real(p);
  const roots = [base, ...allowed].map(real);
  if (!roots.some((root) => inside(root, target))) {
    throw new NumgateError("path_outside", `"${named}" resolves outside ${relative(process.cwd(), base) || "."} (to ${target}); manifest paths stay inside the manifest's folder unless the gate spec lists an outside root in allow_paths_outside`, {
      file: where.manifest,
      field: where.field,
    });
  }
  return p;
}
