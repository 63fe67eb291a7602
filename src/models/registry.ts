/**
 * The model families numgate knows, keyed by `family` in gate specs and oracle manifests.
 * A new family is one folder under models/ and one line here.
 *
 * Each family is imported when a run first asks for it: a gate of one family does not evaluate
 * another's schemas, session and estimate (a few ms of a tiny gate's start-up each).
 */
import { NumgateError, type NumgateErrorDetails } from "../errors/numgate-error.ts";
import type { OracleManifest } from "../oracle/manifest.ts";
import type { Family } from "./family.ts";

/** Each family's own manifest types are its business; the registry hands out the shared view. */
export type AnyFamily = Family<OracleManifest, unknown>;

const LOADERS: Readonly<Record<string, () => Promise<AnyFamily>>> = {
  "qwen3-vl": async () => (await import("./qwen3-vl/family.ts")).qwen3vl as unknown as AnyFamily,
  "qwen3.5": async () => (await import("./qwen3.5/family.ts")).qwen35 as unknown as AnyFamily,
};

/** The names a gate spec's `family` may take. */
export const FAMILY_NAMES: readonly string[] = Object.keys(LOADERS);

export function isFamilyName(name: string): boolean {
  return Object.hasOwn(LOADERS, name);
}

/** What a spec or a caller is told of a family name no family has. */
export function unknownFamilyMessage(name: string): string {
  return `unknown model family "${name}" (families: ${FAMILY_NAMES.join(", ")})`;
}

/** The family called `name`; NumgateError "schema_violation" (at `where`) for a name no family has. */
export async function loadFamily(name: string, where: NumgateErrorDetails = {}): Promise<AnyFamily> {
  const load = Object.hasOwn(LOADERS, name) ? LOADERS[name] : undefined;
  if (load === undefined) throw new NumgateError("schema_violation", unknownFamilyMessage(name), where);
  const family = await load();
  // The key is what specs say; the family's own name is what its manifests say. They must agree.
  if (family.name !== name) throw new NumgateError("internal", `models/registry.ts files family "${family.name}" under "${name}"`);
  return family;
}
