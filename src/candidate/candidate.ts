import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { NumgateError } from "../errors/numgate-error.ts";
import { loadJsonFile } from "../spec/json.ts";
import { CandidateManifestSchema, type CandidateManifest } from "./manifest.ts";

export interface CandidateGraphs {
  embed: string;
  vision: string;
  decoder: string;
}

export interface Candidate {
  readonly name: string;
  readonly manifestPath: string;
  readonly manifest: CandidateManifest;
  /** cwd-relative paths of the graph files, keyed by role (absent for an engine that names none). */
  readonly paths: CandidateGraphs | undefined;
}

export function loadCandidate(manifestPath: string): Candidate {
  const manifest = loadJsonFile(manifestPath, CandidateManifestSchema, "candidate manifest");
  const dir = dirname(manifestPath);
  const files = manifest.files;
  const paths = files === undefined ? undefined : { embed: join(dir, files.embed), vision: join(dir, files.vision), decoder: join(dir, files.decoder) };
  for (const [role, p] of Object.entries(paths ?? {})) {
    if (!existsSync(p)) {
      throw new NumgateError("file_not_found", `candidate ${role} graph ${p} does not exist`, {
        file: relative(process.cwd(), manifestPath) || manifestPath,
        field: `files.${role}`,
      });
    }
  }
  return { name: manifest.name, manifestPath, manifest, paths };
}

export function candidateFiles(c: Candidate): string[] {
  return [c.manifestPath, ...new Set(Object.values(c.paths ?? {}))];
}
