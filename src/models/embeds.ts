/**
 * Token embeddings from a candidate's backend, held to the oracle's hidden width before a session
 * builds anything on them. A wrong width would otherwise turn into a fractional sequence length
 * ("invalid shape [1,13.2,64]") with no file or field.
 */
import { relative } from "node:path";
import type { Backend } from "../backends/backend.ts";
import { NumgateError } from "../errors/numgate-error.ts";
import type { Oracle } from "../oracle/oracle.ts";

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
