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
  return [c.manifestPath, ...new Set(Object.values(c.paths).flatMap(filesUnder).flatMap((f) => [f, ...externalData(f)]))];
}

/**
 * The weights file beside a graph stored with external data, by the names exporters give it
 * (torch's and onnxruntime-genai's `<graph>.onnx.data`, Optimum's `<graph>.onnx_data`): a model
 * over 2 GB keeps its weights there, and a hash of the graph alone would not pin them. Found by
 * name rather than by parsing the graph, which for an inline model means reading gigabytes.
 */
function externalData(graph: string): string[] {
  if (!graph.endsWith(".onnx")) return [];
  return [`${graph}.data`, `${graph}_data`].filter((f) => existsSync(f) && statSync(f).isFile());
}
