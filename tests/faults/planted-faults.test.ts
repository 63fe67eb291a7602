/**
 * Gate power: every planted conversion bug is caught by the rung that should catch it, at the
 * right location, and every healthy build passes the whole ladder. The faults are committed
 * candidate variants of the tiny model (see oracles/record/candidates.py for how each was made).
 */
import { describe, expect, it } from "vitest";
import type { PromptResult, Run } from "../../src/report/schema.ts";
import { MM, TEXT, gateRun, rung } from "../helpers/gate-runs.ts";

interface PlantedFault {
  candidate: string;
  /** The first rung of the ladder that must fail (or error). */
  rung: string;
  verdict: "fail" | "error";
  /** Checks the location the rung reports, on its evidence. */
  location: (prompts: readonly PromptResult[]) => string;
  /** Rungs that must also catch it when the ladder keeps going. */
  alsoWithKeepGoing?: string[];
}

function ev<K extends string>(prompts: readonly PromptResult[], name: string, kind: K) {
  const p = prompts.find((x) => x.prompt === name);
  if (p === undefined || p.evidence.kind !== kind) throw new Error(`no ${kind} evidence for ${name}`);
  return p.evidence as Extract<PromptResult["evidence"], { kind: K }>;
}

const FAULTS: PlantedFault[] = [
  {
    candidate: "fault-mrope-chunked",
    rung: "positions",
    verdict: "fail",
    location: (ps) => {
      const c = ev(ps, MM, "positions").checks.find((x) => x.name === "rope-tables");
      const text = ps.find((p) => p.prompt === TEXT)?.verdict;
      return `rope-tables token ${c?.first?.token} plane ${c?.first?.plane.toUpperCase()}; text-only prompt ${text}`;
    },
    alsoWithKeepGoing: ["layers"],
  },
  {
    candidate: "fault-text-shift",
    rung: "positions",
    verdict: "fail",
    location: (ps) => {
      const f = ev(ps, MM, "positions").checks.find((x) => x.name === "engine-formula")?.first;
      return `engine-formula token ${f?.token} plane ${f?.plane.toUpperCase()}`;
    },
  },
  {
    candidate: "fault-vision-merge-order",
    rung: "vision",
    verdict: "fail",
    location: (ps) => {
      const t = ev(ps, MM, "vision").tensors.find((x) => x.verdict === "fail");
      return `${t?.name} worst row ${t?.worst_row}`;
    },
  },
  {
    candidate: "fault-deepstack-shifted",
    rung: "layers",
    verdict: "fail",
    location: (ps) => `layer ${ev(ps, MM, "layers").first_failing?.layer}; text-only prompt ${ps.find((p) => p.prompt === TEXT)?.verdict}`,
  },
  {
    candidate: "fault-layer-perturbed",
    rung: "layers",
    verdict: "fail",
    location: (ps) => `layer ${ev(ps, MM, "layers").first_failing?.layer} (isolated: layer ${ev(ps, MM, "layers").first_failing_isolated?.layer})`,
  },
  {
    // The damaged head shows first in the cache-seeded step's logits (top-1 still kept there),
    // then as flipped teacher-forced steps; the layers before the head all pass.
    candidate: "fault-int8-clipped-head",
    rung: "seeded_decode",
    verdict: "fail",
    location: (ps) => {
      const s = ev(ps, MM, "seeded_decode");
      return `logits cos ${s.logits_cos !== null && s.logits_cos < 0.9999 ? "< 0.9999" : s.logits_cos}, top-1 ${s.match ? "kept" : "flipped"}`;
    },
    alsoWithKeepGoing: ["teacher_forced", "greedy"],
  },
  {
    candidate: "fault-decode-position",
    rung: "positions",
    verdict: "fail",
    location: (ps) => `decode ${ev(ps, MM, "positions").checks.find((x) => x.name === "decode")?.note}`,
    alsoWithKeepGoing: ["teacher_forced", "greedy"],
  },
  {
    candidate: "fault-stale-kv",
    rung: "teacher_forced",
    verdict: "fail",
    location: (ps) => `first flipped step ${ev(ps, MM, "teacher_forced").steps.findIndex((s) => !s.match)}`,
    alsoWithKeepGoing: ["greedy"],
  },
  {
    candidate: "fault-fp16-overflow",
    rung: "layers",
    verdict: "error",
    location: (ps) => {
      const e = ev(ps, MM, "error");
      return `${e.tensor} layer ${e.layer}`;
    },
  },
];

const EXPECTED_LOCATION: Record<string, string> = {
  "fault-mrope-chunked": "rope-tables token 4 plane W; text-only prompt pass",
  "fault-text-shift": "engine-formula token 9 plane T",
  "fault-vision-merge-order": "embeds worst row 1",
  "fault-deepstack-shifted": "layer 0; text-only prompt pass",
  "fault-layer-perturbed": "layer 3 (isolated: layer 3)",
  "fault-int8-clipped-head": "logits cos < 0.9999, top-1 kept",
  "fault-decode-position": "decode decode step 1 (cache index 13)",
  "fault-stale-kv": "first flipped step 6",
  "fault-fp16-overflow": "hidden_states layer 2",
};

function firstBad(run: Run): string | undefined {
  return run.rungs.find((r) => r.verdict === "fail" || r.verdict === "error")?.id;
}

describe("planted faults are caught by the right rung, at the right place", () => {
  it.each(FAULTS)("$candidate is caught by $rung", async (f) => {
    const run = await gateRun(f.candidate);
    expect(run.verdict).not.toBe("pass");
    expect(firstBad(run)).toBe(f.rung);
    const r = rung(run, f.rung);
    expect(r.verdict).toBe(f.verdict);
    expect(f.location(r.prompts)).toBe(EXPECTED_LOCATION[f.candidate]);
    // Rungs before the catching one pass: nothing earlier and cheaper raised a false alarm.
    const idx = run.rungs.findIndex((x) => x.id === f.rung);
    for (const earlier of run.rungs.slice(0, idx)) expect([earlier.id, earlier.verdict]).toEqual([earlier.id, "pass"]);
    // Rungs depending on a failed one are skipped with a reason, not silently dropped.
    for (const later of run.rungs.slice(idx + 1)) {
      if (later.depends_on.some((d) => run.rungs.find((x) => x.id === d)?.verdict !== "pass")) {
        expect(later.verdict).toBe("skipped");
        expect(later.skip_reason).toMatch(/failed|could not be evaluated|skipped/);
      }
    }
    for (const also of f.alsoWithKeepGoing ?? []) {
      expect(rung(await gateRun(f.candidate, { keepGoing: true }), also).verdict).toBe("fail");
    }
  });
});

describe("healthy builds pass the whole ladder: no false alarms", () => {
  it.each(["fp32", "fp16", "int8"])("%s passes every rung", async (c) => {
    const run = await gateRun(c);
    expect(run.rungs.map((r) => [r.id, r.verdict])).toEqual([
      ["positions", "pass"],
      ["vision", "pass"],
      ["layers", "pass"],
      ["seeded_decode", "pass"],
      ["teacher_forced", "pass"],
      ["greedy", "pass"],
    ]);
    expect(run.verdict).toBe("pass");
  });
});
