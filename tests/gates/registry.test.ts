/**
 * The gate registry: every kind is one complete unit, shared setting names mean the same thing
 * in every kind, and a kind that opts out of diffing is reported by `numgate diff` as not
 * compared rather than skipped in silence.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod/mini";
import { GATE_KINDS, GATE_UNITS, gateUnit, type GateKind } from "../../src/gates/registry.ts";
import { hasHook } from "../../src/gates/unit.ts";
import { diffReports, renderDiffConsole, renderDiffHtml } from "../../src/report/diff.ts";
import { clone, loadSample } from "../report/helpers.ts";

describe("the gate registry", () => {
  it.each(GATE_KINDS)("%s is a complete unit", (kind) => {
    const u = GATE_UNITS[kind];
    expect(u.kind).toBe(kind);
    // Settings are strict: an unknown key is rejected, and every key is optional (specs override some).
    expect(u.thresholds.safeParse({ no_such_threshold: 1 }).success).toBe(false);
    expect(u.options.safeParse({ no_such_option: 1 }).success).toBe(false);
    expect(u.thresholds.safeParse({}).success).toBe(true);
    expect(u.options.safeParse({}).success).toBe(true);
    // The evidence is discriminated by this kind.
    const shape = (u.evidence as unknown as z.ZodMiniObject).shape;
    expect((shape["kind"] as z.ZodMiniLiteral).def.values[0]).toBe(kind);
    expect(typeof u.gate).toBe("function");
    expect(typeof u.impossible).toBe("function");
    expect(typeof u.tokenIds).toBe("function");
    expect(typeof u.render.html).toBe("function");
    expect(typeof u.render.junit).toBe("function");
    expect(u.requires.every((c) => typeof c === "string" && c.length > 0)).toBe(true);
    // Diff and calibration: a hook, or a stated reason for not having one.
    expect(hasHook(u.diff) ? typeof u.diff.compare : u.diff.none.length > 0).toBeTruthy();
    expect(hasHook(u.calibrate) ? typeof u.calibrate.derive : u.calibrate.none.length > 0).toBeTruthy();
  });

  it("a setting name shared by several kinds has the same schema in each", () => {
    for (const section of ["thresholds", "options"] as const) {
      const seen = new Map<string, { kind: GateKind; json: string }>();
      for (const kind of GATE_KINDS) {
        for (const [key, schema] of Object.entries(GATE_UNITS[kind][section].shape)) {
          const json = JSON.stringify(z.toJSONSchema(schema as z.ZodMiniType, { io: "input" }));
          const first = seen.get(key);
          if (first === undefined) seen.set(key, { kind, json });
          else expect(json, `${section}.${key} in ${kind} vs ${first.kind}`).toBe(first.json);
        }
      }
    }
  });

  it("seeded_decode declares that it needs a seeded state", () => {
    expect(GATE_UNITS.seeded_decode.requires).toContain("seeded_state");
  });
});

describe("a kind without a diff hook", () => {
  const noDiff = (kind: GateKind) => (kind === "positions" ? { ...gateUnit(kind), diff: { none: "positions are integer-exact: a verdict change is all there is to diff" } } : gateUnit(kind));

  it("is listed by diff as not compared, with its reason, without counting as a change", () => {
    const base = loadSample();
    const head = clone(base);
    const d = diffReports(base, head, { unitOf: noDiff });
    const rungs = d.runs.flatMap((r) => r.rungs).filter((g) => g.kind === "positions");
    expect(rungs.length).toBeGreaterThan(0);
    for (const g of rungs) {
      expect(g.not_compared).toBe("positions are integer-exact: a verdict change is all there is to diff");
      expect(g.prompts).toEqual([]);
    }
    expect(d.changes).toBe(0);
    const text = renderDiffConsole(d);
    expect(text).toContain("evidence not compared: positions are integer-exact: a verdict change is all there is to diff");
    expect(text).toContain("no changes");
    expect(renderDiffHtml(d)).toContain("Evidence not compared: positions are integer-exact");
  });

  it("still reports a verdict change on that kind", () => {
    const base = loadSample();
    const head = clone(base);
    const run = head.runs.find((r) => r.rungs.some((g) => g.kind === "positions" && g.verdict === "pass"))!;
    const rung = run.rungs.find((g) => g.kind === "positions")!;
    rung.verdict = "fail";
    const d = diffReports(base, head, { unitOf: noDiff });
    const g = d.runs.find((r) => r.id === run.id)!.rungs.find((x) => x.id === rung.id)!;
    expect(g.verdict).toMatchObject({ base: "pass", head: "fail", regression: true });
    expect(g.not_compared).toBeDefined();
  });

  it("the registry's own kinds all compare their evidence today", () => {
    const d = diffReports(loadSample(), loadSample());
    expect(d.runs).toEqual([]);
  });
});
