/**
 * What a session keeps per prompt: only what some rung still to run reads. The ladder says, before
 * each rung, what that rung and the later ones read (`ModelSession.retain`); a session asks this
 * plan before keeping an output and drops what no one will read again.
 */
import type { StateHandle, StepOutputs } from "../backends/backend.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { HostPositions, SessionOutput } from "./session.ts";

/** What a session keeps of a prefill; each part is dropped once no rung still to run reads it. */
export interface Prefill {
  positions: HostPositions;
  /** [L, 1, S, H] (layer_outputs). */
  hidden?: Tensor;
  rope?: { cos: Tensor; sin: Tensor };
  /** The state after the prompt and the logits row of its last token (decode). */
  decode?: { state: StateHandle; lastRow: Float32Array; seqLen: number };
}

/** What a session keeps of a prefill's outputs: the state, the last logits row, and what was fetched. */
export function prefillOf(positions: HostPositions, out: StepOutputs, wantLayers: boolean): Prefill {
  const V = out.logits.shape[2] ?? 0;
  const S = out.logits.shape[1] ?? 0;
  const p: Prefill = { positions, decode: { state: out.state, lastRow: out.logits.toFloat32().slice((S - 1) * V, S * V), seqLen: S } };
  if (wantLayers && out.hidden !== undefined) p.hidden = out.hidden;
  if (out.ropeCos !== undefined && out.ropeSin !== undefined) p.rope = { cos: out.ropeCos, sin: out.ropeSin };
  return p;
}

export class ReadPlan {
  /** What the running rung and the rungs after it read (undefined: no ladder said; keep everything). */
  private reads: { current: ReadonlySet<SessionOutput>; later: ReadonlySet<SessionOutput> } | undefined;

  set(current: ReadonlySet<SessionOutput>, later: ReadonlySet<SessionOutput>): void {
    this.reads = { current, later };
  }

  /** Some rung still to run (this one included) reads `o`. */
  needed(o: SessionOutput): boolean {
    return this.reads === undefined || this.reads.current.has(o) || this.reads.later.has(o);
  }

  /** A rung after the running one reads `o`: keep it after handing it over. */
  neededLater(o: SessionOutput): boolean {
    return this.reads === undefined || this.reads.later.has(o);
  }

  /**
   * The prefill's decode state (its KV cache, the size of a prompt's whole context), handed over
   * when no later rung decodes: the running rung's loop holds it while it decodes that prompt, and
   * it is garbage once that prompt is done instead of once the rung has done every prompt.
   */
  takeDecode(p: Prefill): Prefill["decode"] {
    const decode = p.decode;
    if (!this.neededLater("decode")) delete p.decode;
    return decode;
  }

  /** Some rung still to run reads what a prefill gives (its rotary tables, layer outputs or state). */
  get prefillRead(): boolean {
    return this.needed("rope_tables") || this.needed("layer_outputs") || this.needed("decode");
  }

  /**
   * A prompt's embeddings and prefill dropped when no rung still to run reads a prefill (the
   * embeddings feed only the prefill and the isolated layer runs), else the prefill's unread parts.
   */
  releasePrefill(st: { embeds?: unknown; prefill?: Promise<Prefill> }): void {
    if (this.prefillRead) this.release(st.prefill);
    else {
      delete st.embeds;
      delete st.prefill;
    }
  }

  /** Drops, once the prefill settles, the parts of it no rung still to run reads. */
  private release(prefill: Promise<Prefill> | undefined): void {
    // A failed prefill stays failed: its rung reported it, and so will any later reader.
    void prefill?.then(
      (p) => {
        if (!this.needed("layer_outputs")) delete p.hidden;
        if (!this.needed("rope_tables")) delete p.rope;
        if (!this.needed("decode")) delete p.decode;
      },
      () => undefined,
    );
  }
}
