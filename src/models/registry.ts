/**
 * The model families numgate knows, keyed by `family` in gate specs and oracle manifests.
 * A new family is one folder under models/ and one line here.
 */
import { NumgateError, type NumgateErrorDetails } from "../errors/numgate-error.ts";
import type { OracleManifest } from "../oracle/manifest.ts";
import type { Family } from "./family.ts";
import { qwen35 } from "./qwen3.5/family.ts";
import { qwen3vl } from "./qwen3-vl/family.ts";

/** Each family's own manifest types are its business; the registry hands out the shared view. */
export type AnyFamily = Family<OracleManifest, unknown>;

export const FAMILIES: Readonly<Record<string, AnyFamily>> = {
  [qwen3vl.name]: qwen3vl as unknown as AnyFamily,
  [qwen35.name]: qwen35 as unknown as AnyFamily,
};

export function familyNamed(name: string, where: NumgateErrorDetails = {}): AnyFamily {
  const f = FAMILIES[name];
  if (f === undefined) throw new NumgateError("schema_violation", `unknown model family "${name}" (families: ${Object.keys(FAMILIES).join(", ")})`, where);
  return f;
}
