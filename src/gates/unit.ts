/**
 * What one gate kind is made of. Each kind lives in its own folder, src/gates/<kind>/, and exports
 * one `GateUnit` that src/gates/registry.ts lists; nothing else in numgate names a kind.
 *
 * A part a kind does not have (no diff, no calibration) is an explicit `{ none: reason }`, so
 * that `numgate diff` and `numgate calibrate` can say what they did not do and why.
 */
import type { z } from "zod/mini";
import type { SafeHtml } from "../render/html.ts";
import type { Verdict } from "../verdicts/verdict.ts";
import type { Capability, SessionOutput } from "../models/session.ts";
import type { Gate } from "./gate.ts";

/** A part this kind deliberately does not have, and why. */
export interface NoHook {
  readonly none: string;
}

export function hasHook<T extends object>(part: T | NoHook): part is T {
  return !("none" in part);
}

/** A rung's merged thresholds and options (ladder defaults, then spec and candidate overrides). */
export interface RungSettings {
  readonly thresholds: Readonly<Record<string, number>>;
  readonly options: Readonly<Record<string, unknown>>;
}

/** A setting that makes the rung impossible to pass (or to run), found before anything runs. */
export interface SettingFault {
  readonly section: "thresholds" | "options";
  readonly key: string;
  readonly message: string;
  /** Other settings the fault depends on (e.g. `options.steps` for `min_matches`), to locate it where it was written. */
  readonly involves?: readonly { section: "thresholds" | "options"; key: string }[];
}

export interface HtmlContext {
  /** The rung's thresholds, e.g. for threshold lines in a chart. */
  readonly thresholds: Readonly<Record<string, number>>;
  /** The rung's metric units, e.g. {"oracle_margin": "logits"}. */
  readonly units: Readonly<Record<string, string>>;
  /** A token id with its vocabulary name, when the run carries names. */
  token(id: number | undefined): SafeHtml;
}

export interface EvidenceRendering<E> {
  /** The evidence section under one prompt in report.html. */
  html(ev: E, ctx: HtmlContext): SafeHtml;
  /** Lines in a failing JUnit testcase's body, after its message. */
  junit(ev: E): string[];
}

/** A value on either side of a comparison (`undefined`: absent on that side). */
export interface LayerSide {
  readonly value: number | null | undefined;
  readonly verdict: Verdict;
}

/** One side's token sequences, for a side-by-side table. */
export interface TokenSequence {
  readonly oracle: readonly number[];
  readonly candidate: readonly number[];
  readonly firstDivergence: number | null;
}

/**
 * Handed to a kind's diff hook by report/diff.ts: the hook says which values to compare, the
 * recorder decides what changed and what counts as a regression (a cosine drop beyond tolerance).
 */
export interface DiffRecorder {
  metric(scope: string, name: string, base: number | null | undefined, head: number | null | undefined): void;
  layer(layer: number, metric: "cos" | "cos_worst_row" | "isolated_cos", base: LayerSide | undefined, head: LayerSide | undefined): void;
  tokens(base: TokenSequence | undefined, head: TokenSequence | undefined): void;
}

export interface EvidenceDiff<E> {
  /** `base`/`head` are undefined where that side has no evidence of this kind (absent, or an error). */
  compare(rec: DiffRecorder, base: E | undefined, head: E | undefined): void;
}

/** Thresholds derived from a healthy reference's evidence on one rung. */
export interface Calibrated {
  thresholds: Record<string, number>;
  /** What the reference measured, for the comment written beside the thresholds. */
  floor: Record<string, number>;
}

export interface Calibration<E> {
  /**
   * Thresholds with `headroom` over what the reference showed; undefined when the rung had nothing
   * to measure. Throws NumgateError "candidate_invalid" when the reference is not healthy.
   */
  derive(evidence: readonly E[], reference: string, headroom: number): Calibrated | undefined;
}

export interface GateUnit<E extends { kind: string }> {
  readonly kind: E["kind"];
  /** Strict; every key optional (a spec overrides only what it names); each key documents its default. */
  readonly thresholds: z.ZodMiniObject;
  readonly options: z.ZodMiniObject;
  /** Settings the rung can never pass with, checked once ladder, spec and candidate overrides are merged. */
  impossible(settings: RungSettings): SettingFault[];
  /** The evidence this kind writes into report.json (`kind` is the literal of this kind). */
  readonly evidence: z.ZodMiniType<E>;
  readonly gate: Gate<E>;
  /** Session capabilities without which the rung cannot run (the ladder runner skips it). */
  readonly requires: readonly Capability[];
  /** The session outputs the gate reads (the session releases what no rung still to run reads). */
  readonly reads: readonly SessionOutput[];
  readonly render: EvidenceRendering<E>;
  readonly diff: EvidenceDiff<E> | NoHook;
  readonly calibrate: Calibration<E> | NoHook;
  /** Token ids the evidence mentions, named in report.json's `run.token_names`. */
  tokenIds(ev: E): Iterable<number>;
}
