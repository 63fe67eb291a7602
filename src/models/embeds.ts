/**
 * A prompt's input embeddings: token embeddings from a candidate's backend, held to the oracle's
 * hidden width before a session builds anything on them (a wrong width would otherwise turn into a
 * fractional sequence length, "invalid shape [1,13.2,64]", with no file or field), and the
 * candidate's image rows spliced in where the image tokens stand.
 */
import { relative } from "node:path";
import type { Backend } from "../backends/backend.ts";
import { NumgateError } from "../errors/numgate-error.ts";
import type { Oracle } from "../oracle/oracle.ts";
import type { Tensor } from "../tensor/tensor.ts";

export async function embedTokens(backend: Backend, ids: readonly number[], hidden: number, oracle: Pick<Oracle, "manifestPath">): Promise<Float32Array> {
  const e = await backend.embed(ids);
  if (e.length !== ids.length * hidden) {
    throw new NumgateError(
      "tensor_shape",
      `the candidate's inputs_embeds for ${ids.length} tokens has ${e.length} values, not ${ids.length} × ${hidden} (hidden width ${e.length / ids.length} vs ${hidden}, candidate vs oracle); candidate: ${backend.name}`,
      { file: relative(process.cwd(), oracle.manifestPath) || oracle.manifestPath, field: "text.hidden_size" },
    );
  }
  return e;
}

/**
 * The tower's merged image rows ([n, H], in image order) written over the embeddings of the
 * prompt's image tokens, in place; returns the rows they filled. A tower that gives another
 * number of rows than the prompt has image tokens is the candidate's error.
 */
export function spliceImageRows(inputsEmbeds: Float32Array, ids: readonly number[], imageTokenId: number, imageRows: Tensor, hidden: number, prompt: string): number[] {
  const slots = ids.flatMap((t, i) => (t === imageTokenId ? [i] : []));
  const rows = imageRows.shape[0] ?? 0;
  if (rows !== slots.length) {
    throw new NumgateError("candidate_invalid", `vision tower returned ${rows} image embeddings but prompt "${prompt}" has ${slots.length} image tokens`, { field: "image_embeds" });
  }
  const src = imageRows.toFloat32();
  slots.forEach((pos, r) => inputsEmbeds.set(src.subarray(r * hidden, (r + 1) * hidden), pos * hidden));
  return slots;
}
