/**
 * Opening a candidate of a spec as a session over its oracle: the candidate manifest (paths
 * confined as the spec allows), the check that it is a build of the spec's model, the family's
 * part of the manifest, the backend and the family's session. A gate run opens its candidate this
 * way, and so do the rungs that open builds afresh (repeat: the same candidate R times;
 * engine_vs_reference: a second build), so every build is held to the same checks.
 */
import { resolve } from "node:path";
import type { Backend, BackendOpenOptions } from "../backends/backend.ts";
import { openBackend } from "../backends/registry.ts";
import { loadCandidate, type Candidate } from "../candidate/candidate.ts";
import { NumgateError } from "../errors/numgate-error.ts";
import type { AnyFamily } from "../models/registry.ts";
import type { ModelSession, SessionOpener } from "../models/session.ts";
import type { Oracle } from "../oracle/oracle.ts";
import { loadJsonFile } from "../spec/json.ts";
import { rel, resolveCandidate, type ResolvedCandidate, type ResolvedSpec } from "./resolve.ts";

export interface CandidateSession {
  candidate: Candidate;
  backend: Backend;
  session: ModelSession;
}

/** Folders outside a manifest's own that its paths may name (the spec's allow_paths_outside). */
export function outsideRoots(r: ResolvedSpec): string[] {
  return r.spec.allow_paths_outside.map((p) => resolve(r.root, p));
}

/** `candidate`: the manifest already loaded by the caller (a run hashes its files before the backend opens). */
export async function openCandidateSession(
  r: ResolvedSpec,
  family: AnyFamily,
  oracle: Oracle,
  cand: ResolvedCandidate,
  options: BackendOpenOptions = {},
  candidate: Candidate = loadCandidate(cand.manifestPath, outsideRoots(r)),
): Promise<CandidateSession> {
  if (candidate.manifest.model !== r.spec.model) {
    throw new NumgateError("candidate_invalid", `this candidate is a build of "${candidate.manifest.model}", but the spec gates "${r.spec.model}"`, {
      file: rel(cand.manifestPath),
      field: "model",
    });
  }
  // The family's part of the candidate manifest, read with its schema so messages name file and field.
  const part = loadJsonFile(rel(cand.manifestPath), family.candidateSchema, "candidate manifest");
  const backend = await openBackend(candidate, family.shape(oracle.manifest), r.root, options);
  try {
    return { candidate, backend, session: family.openSession(backend, oracle, part) };
  } catch (e) {
    await backend.close();
    throw e;
  }
}

/** Opens candidates of this spec (by name, or a manifest's path) afresh, over the already opened oracle. */
export function sessionOpener(r: ResolvedSpec, family: AnyFamily, oracle: Oracle): SessionOpener {
  return async (name) => {
    const { session, backend } = await openCandidateSession(r, family, oracle, resolveCandidate(r, name));
    return { session, close: () => backend.close() };
  };
}
