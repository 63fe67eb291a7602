/**
 * A fresh session of a spec's candidate, apart from any gate run: what the repeat rung (the same
 * candidate R times from a fresh start) and engine_vs_reference (a second build) need.
 */
import { openBackend } from "../backends/registry.ts";
import { loadCandidate } from "../candidate/candidate.ts";
import type { SessionOpener } from "../models/session.ts";
import { familyNamed } from "../models/registry.ts";
import { Oracle } from "../oracle/oracle.ts";
import { loadJsonFile } from "../spec/json.ts";
import { rel, resolveCandidate, resolveSpec } from "./resolve.ts";

export function sessionOpener(root: string, model: string): SessionOpener {
  return async (name) => {
    const r = resolveSpec(root, model);
    const family = familyNamed(r.spec.family, { file: rel(r.specPath), field: "family" });
    const oracle = Oracle.open(r.oracleDir, family.oracleSchema);
    const cand = resolveCandidate(r, name);
    const backend = await openBackend(loadCandidate(cand.manifestPath), family.shape(oracle.manifest), root);
    const part = loadJsonFile(rel(cand.manifestPath), family.candidateSchema, "candidate manifest");
    return { session: family.openSession(backend, oracle, part), close: () => backend.close() };
  };
}
