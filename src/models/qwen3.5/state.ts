/**
 * The hybrid decoder state in numgate's canonical names: `past.<i>.key` / `past.<i>.value` for a
 * full-attention layer (growing along the sequence), `past.<i>.conv` / `past.<i>.recurrent` for a
 * linear-attention (GatedDeltaNet) layer (fixed size: the last `conv_kernel` inputs of its causal
 * conv, and the [value_heads, key_head_dim, value_head_dim] delta-rule state).
 */
import type { StateTensorSpec } from "../../backends/backend.ts";
import type { Qwen35OracleManifest } from "./manifest.ts";

export function qwen35StateSpecs(m: Qwen35OracleManifest): StateTensorSpec[] {
  const t = m.text;
  const lin = t.linear;
  return t.layer_types.flatMap((type, i): StateTensorSpec[] =>
    type === "full_attention"
      ? [
          { name: `past.${i}.key`, layer: i, role: "key", emptyShape: [1, t.num_kv_heads, 0, t.head_dim] },
          { name: `past.${i}.value`, layer: i, role: "value", emptyShape: [1, t.num_kv_heads, 0, t.head_dim] },
        ]
      : [
          { name: `past.${i}.conv`, layer: i, role: "conv", emptyShape: [1, lin.conv_dim, lin.conv_kernel] },
          { name: `past.${i}.recurrent`, layer: i, role: "recurrent", emptyShape: [1, lin.num_value_heads, lin.key_head_dim, lin.value_head_dim] },
        ],
  );
}
