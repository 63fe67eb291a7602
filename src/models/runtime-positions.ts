/**
 * Positions a runtime computed itself (e.g. transformers.js's JavaScript get_rope_index), read
 * off the position-id feeds it gave its decoder during its own generate(): the first feed is the
 * prefill, feed k the decode step at cache index S + k - 1.
 */
import type { Backend, GenerateResult } from "../backends/backend.ts";
import { NumgateError } from "../errors/numgate-error.ts";
import type { HostPositions, PortedPositions, PositionsSupport } from "./session.ts";

type Feed = GenerateResult["positionFeeds"][number];

function feedAt(feeds: readonly Feed[], k: number, what: string): Feed {
  const f = feeds[k];
  if (f === undefined) throw new NumgateError("internal", `the runtime fed ${feeds.length} position feeds, none for ${what}`);
  return f;
}

export function runtimePromptPositions(source: string, seqLen: number, feeds: readonly Feed[]): HostPositions {
  const pre = feedAt(feeds, 0, "the prefill");
  if (pre.seqLen !== seqLen || pre.batch !== 1) {
    throw new NumgateError("backend_failed", `the runtime's prefill position feed is [${pre.planes}, ${pre.batch}, ${pre.seqLen}], not [3, 1, ${seqLen}]`);
  }
  return {
    source,
    expressible: true,
    positions: pre.data,
    decodeAt: (cacheIndex) => {
      const f = feedAt(feeds, cacheIndex - seqLen + 1, `cache index ${cacheIndex}`);
      return Array.from({ length: f.planes }, (_, p) => f.data[p * f.batch * f.seqLen + f.seqLen - 1] ?? NaN);
    },
  };
}

export function runtimeBatchPositions(source: string, feeds: readonly Feed[]): PortedPositions & { source: string } {
  const pre = feedAt(feeds, 0, "the prefill");
  return {
    source,
    batch: pre.batch,
    seqLen: pre.seqLen,
    positionIds: pre.data,
    deltas: [],
    decodeAt: (row, step) => {
      const f = feedAt(feeds, step + 1, `decode step ${step}`);
      return Array.from({ length: f.planes }, (_, p) => f.data[(p * f.batch + row) * f.seqLen + f.seqLen - 1] ?? NaN);
    },
  };
}

/**
 * A session's positions: the ported ones, or, for a runtime that computes positions itself (it has
 * its own generate()), the positions it fed during that generate(), judged instead of a formula.
 */
export function withRuntimePositions(
  ported: PositionsSupport,
  backend: Backend,
  seqLen: (prompt: string) => number,
  generated: (prompt: string) => Promise<GenerateResult>,
): PositionsSupport {
  if (backend.generate === undefined) return ported;
  const batches = backend.capabilities.generateBatch !== false;
  return {
    ...ported,
    host: async (p) => runtimePromptPositions("runtime", seqLen(p), (await generated(p)).positionFeeds),
    ...(batches ? { hostBatch: async (b: string) => runtimeBatchPositions("runtime", (await generated(b)).positionFeeds) } : {}),
  };
}
