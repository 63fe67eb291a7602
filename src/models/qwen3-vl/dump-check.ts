/**
 * A Qwen3-VL dump's declared shapes against the model the manifest describes, from the headers
 * alone: so that a wrong `num_layers` or `hidden_size` in the manifest, or a dump of another
 * model, is an oracle error naming the manifest field and the tensor, not a candidate failure.
 */
import { NumgateError } from "../../errors/numgate-error.ts";
import type { OracleDump } from "../../oracle/oracle.ts";
import type { Qwen3VLOracleManifest } from "./manifest.ts";

export function checkDumpShapes(m: Qwen3VLOracleManifest, manifestFile: string, prompt: Qwen3VLOracleManifest["prompts"][number], dump: OracleDump): void {
  const t = m.text;
  const S = prompt.sequence_length;
  const bad = (field: string, what: string) =>
    new NumgateError("oracle_invalid", `${dump.file} disagrees with ${manifestFile} (${field}): ${what}`, { file: manifestFile, field });
  const expect = (tensor: string, shape: readonly number[], field: string) => {
    if (!dump.has(tensor)) return;
    const got = dump.shape(tensor);
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw bad(field, `tensor ${tensor} is [${got.join(", ")}], the manifest implies [${shape.join(", ")}]`);
    }
  };
  for (let i = 0; i < t.num_layers; i++) {
    if (!dump.has(`decoder.hidden.${i}`)) throw bad("text.num_layers", `the manifest says ${t.num_layers} layers but the dump has no decoder.hidden.${i}`);
    expect(`decoder.hidden.${i}`, [S, t.hidden_size], "text.hidden_size");
  }
  if (dump.has(`decoder.hidden.${t.num_layers}`)) throw bad("text.num_layers", `the manifest says ${t.num_layers} layers but the dump has decoder.hidden.${t.num_layers}`);
  expect("decoder.inputs_embeds", [S, t.hidden_size], "text.hidden_size");
  expect("cache.keys", [t.num_layers, 1, t.num_kv_heads, S, t.head_dim], "text.num_kv_heads / text.head_dim");
  expect("cache.values", [t.num_layers, 1, t.num_kv_heads, S, t.head_dim], "text.num_kv_heads / text.head_dim");
  if (dump.has("teacher.logits")) {
    const v = dump.shape("teacher.logits").at(-1);
    if (v !== t.vocab_size) throw bad("text.vocab_size", `teacher.logits rows have ${v} entries, the manifest says vocab_size ${t.vocab_size}`);
  }
  if (dump.has("vision.embeds")) {
    const w = dump.shape("vision.embeds").at(-1);
    if (w !== t.hidden_size) throw bad("text.hidden_size", `vision.embeds rows have ${w} entries, the manifest says hidden_size ${t.hidden_size}`);
    for (let k = 0; k < t.deepstack_levels; k++) {
      if (!dump.has(`vision.deepstack.${k}`)) throw bad("text.deepstack_levels", `the manifest says ${t.deepstack_levels} DeepStack levels but the dump has no vision.deepstack.${k}`);
    }
  }
}
