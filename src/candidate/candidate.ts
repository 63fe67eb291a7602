import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { NumgateError } from "../errors/numgate-error.ts";
import { confinedPath } from "../files/confine.ts";
import { loadJsonFile } from "../spec/json.ts";
import { CandidateManifestSchema, type CandidateManifest } from "./manifest.ts";

export interface Candidate {
  readonly name: string;
  readonly manifestPath: string;
  readonly manifest: CandidateManifest;
  /** cwd-relative paths of the graph files, keyed by role (empty for an engine that names none). */
  readonly paths: Readonly<Record<string, string>>;
}

function rel(p: string): string {
  return relative(process.cwd(), p) || p;
}

/** `allowedRoots`: folders outside the manifest's own that its paths may name (the spec's allow_paths_outside). */
export function loadCandidate(manifestPath: string, allowedRoots: readonly string[] = []): Candidate {
  const manifest = loadJsonFile(manifestPath, CandidateManifestSchema, "candidate manifest");
  const dir = dirname(manifestPath);
  const paths: Record<string, string> = {};
  for (const [role, file] of Object.entries(manifest.files ?? {})) {
    const p = confinedPath(dir, file, { manifest: rel(manifestPath), field: `files.${role}` }, allowedRoots);
    if (!existsSync(p)) {
      throw new NumgateError("file_not_found", `candidate ${role} graph ${p} does not exist`, { file: rel(manifestPath), field: `files.${role}` });
    }
    paths[role] = p;
  }
  return { name: manifest.name, manifestPath, manifest, paths };
}

/** Every file of a path: itself, or the files under a model folder, sorted. */
function filesUnder(p: string): string[] {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p)
    .sort()
    .flatMap((f) => filesUnder(join(p, f)));
}

export function candidateFiles(c: Candidate): string[] {
  return [c.manifestPath, ...new Set(Object.values(c.paths).flatMap(filesUnder))];
}
