/**
 * A ladder: the ordered rungs of one model family, cheapest first, with default thresholds.
 * ladders/<family>.yaml; a gate spec picks one and may override its thresholds per candidate.
 *
 * This file holds the ladder's structure (rung ids, kinds, dependencies). What a rung of a kind
 * may set is that kind's own strict schema (src/gates/<kind>/settings.ts, through the registry);
 * `rungSettingIssues` applies it here and to a gate spec's overrides (src/run/resolve.ts).
 */
import { z } from "../schema/zod.ts";
import { GATE_KINDS, GATE_UNITS, GateKindSchema, gateUnit, type GateKind } from "../gates/registry.ts";

export type SettingSection = "thresholds" | "options";

function keysByKind(section: SettingSection): Readonly<Record<GateKind, readonly string[]>> {
  return Object.fromEntries(GATE_KINDS.map((k) => [k, Object.keys(GATE_UNITS[k][section].shape)])) as unknown as Record<GateKind, readonly string[]>;
}

/** Threshold names each rung kind understands; anything else in a spec is a typo. */
export const THRESHOLDS_BY_KIND = keysByKind("thresholds");
export const OPTIONS_BY_KIND = keysByKind("options");

/**
 * Every name any kind understands, each with its kind's schema (a name means the same in every
 * kind that has it). A gate spec is checked against this before its ladder is known, so a typo
 * gets a did-you-mean; the rung's own kind is checked once the ladder is loaded.
 */
function anyKindSchema(section: SettingSection): z.ZodMiniObject {
  const shape: Record<string, z.ZodMiniType> = {};
  for (const k of GATE_KINDS) {
    for (const [key, schema] of Object.entries(GATE_UNITS[k][section].shape)) shape[key] ??= schema as z.ZodMiniType;
  }
  return z.strictObject(shape);
}
export const ThresholdsSchema = anyKindSchema("thresholds");
export const OptionsSchema = anyKindSchema("options");

export interface SettingIssue {
  /** The key at fault, below the section (empty when the section itself is at fault). */
  path: (string | number)[];
  message: string;
  /** The zod issue, when the kind's schema raised one (it carries the code the loaders translate). */
  zodIssue?: z.core.$ZodIssue;
}

/** What is wrong with a rung's thresholds or options for its kind (empty when nothing). */
export function rungSettingIssues(kind: GateKind, section: SettingSection, value: unknown): SettingIssue[] {
  // jitless: small and validated once per process (see validateSpecData in yaml.ts).
  const result = gateUnit(kind)[section].safeParse(value, { jitless: true });
  if (result.success) return [];
  const known = section === "thresholds" ? THRESHOLDS_BY_KIND[kind] : OPTIONS_BY_KIND[kind];
  const what = section === "thresholds" ? "threshold" : "option";
  return result.error.issues.flatMap((issue): SettingIssue[] =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: [key], message: `a ${kind} rung has no ${what} "${key}" (known: ${known.join(", ") || "none"})` }))
      : [{ path: issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: issue.message, zodIssue: issue }],
  );
}

export const RungSpecSchema = z.strictObject({
  id: z.string().check(z.regex(/^[a-z][a-z0-9_-]*$/, "rung ids are lowercase letters, digits, _ and -")),
  kind: GateKindSchema,
  title: z.string().check(z.minLength(1)),
  depends_on: z._default(z.array(z.string()), []),
  thresholds: z._default(z.record(z.string(), z.number()), {}),
  options: z._default(z.record(z.string(), z.unknown()), {}),
  /**
   * A rung that compares builds rather than a build with the oracle (repeat, engine_vs_reference)
   * runs for a candidate only when the spec gives it settings for that candidate (or spec-wide).
   */
  opt_in: z._default(z.boolean(), false),
});
export type RungSpec = z.infer<typeof RungSpecSchema>;

export const LadderSchema = z
  .strictObject({
    name: z.string().check(z.minLength(1)),
    family: z.string().check(z.minLength(1)),
    description: z.optional(z.string()),
    rungs: z.array(RungSpecSchema).check(z.minLength(1)),
  })
  .check(z.superRefine((ladder, ctx) => {
    const seen = new Set<string>();
    ladder.rungs.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: "custom", path: ["rungs", i, "id"], message: `duplicate rung id "${r.id}"` });
      r.depends_on.forEach((d, j) => {
        if (!seen.has(d)) {
          ctx.addIssue({ code: "custom", path: ["rungs", i, "depends_on", j], message: `"${d}" is not an earlier rung (rungs run in order; known: ${[...seen].join(", ") || "none"})` });
        }
      });
      seen.add(r.id);
      let settingsValid = true;
      for (const section of ["thresholds", "options"] as const) {
        for (const issue of rungSettingIssues(r.kind, section, r[section])) {
          settingsValid = false;
          const path = ["rungs", i, section, ...issue.path];
          if (issue.zodIssue === undefined) ctx.addIssue({ code: "custom", path, message: issue.message });
          else ctx.addIssue({ ...issue.zodIssue, path } as Parameters<typeof ctx.addIssue>[0]);
        }
      }
      // A threshold the ladder sets that its own rung can never meet. (A threshold the ladder
      // leaves to the gate specs is checked per candidate, once the specs are merged in.)
      if (settingsValid) {
        for (const fault of gateUnit(r.kind).impossible({ thresholds: r.thresholds, options: r.options })) {
          if (r[fault.section][fault.key] === undefined) continue;
          ctx.addIssue({ code: "custom", path: ["rungs", i, fault.section, fault.key], message: `rung ${r.id}: ${fault.message}` });
        }
      }
    });
  }));
export type Ladder = z.infer<typeof LadderSchema>;
