/**
 * Per-layer outputs from a graph that does not expose them: numgate edits a copy of the decoder
 * graph so that the residual stream after each decoder layer becomes an extra graph output (the
 * idea of Polygraphy's "mark outputs" and onnxruntime's
 * `qdq_loss_debug.modify_model_output_intermediate_tensors`). The tensors are found by the
 * exporters' node naming, or named by the candidate manifest (`layer_outputs`). The copy goes to
 * a git-ignored cache keyed by the graph's hash; the user's file is never written. External data
 * stays where it is: the cached copy reaches it through hard links with the same relative names
 * (onnxruntime refuses external data that resolves outside the model's folder, so a symlink will
 * not do; across file systems it is copied).
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { externalDataFiles, readModel, writeModel, type NodeProto, type OnnxModel } from "./onnx-model.ts";

/** Where the residual after each layer is in this graph, or why it could not be found. */
export type LayerTensors = { ok: true; names: string[]; how: string } | { ok: false; reason: string };

/** A rule naming the residual after layer `layer`; returns the tensor (and may edit the node to emit it). */
interface NamingRule {
  name: string;
  find(nodes: readonly NodeProto[], layers: number): string[] | null;
}

/**
 * torch's exporters (TorchScript, as optimum and onnx-community use it) name nodes by module path:
 * the residual after layer N is the last `Add` directly in scope `.../layers.N/` (the MLP residual).
 */
const torchScopes: NamingRule = {
  name: "torch module scopes (.../layers.N/Add)",
  find(nodes, layers) {
    const last = new Map<number, string>();
    const re = /^(?:.*\/)?layers\.(\d+)\/Add(?:_\d+)?$/;
    for (const n of nodes) {
      const m = n.opType === "Add" ? re.exec(n.name ?? "") : null;
      const out = n.output[0];
      if (m !== null && out !== undefined) last.set(Number(m[1]), out);
    }
    const names = Array.from({ length: layers }, (_, i) => last.get(i));
    return names.every((n) => n !== undefined) ? (names as string[]) : null;
  },
};

/**
 * onnxruntime-genai's model builder fuses each residual add into the next norm:
 * `/model/layers.{N+1}/input_layernorm/SkipLayerNorm` (SkipSimplifiedLayerNormalization) emits
 * the sum as output 3. The last layer's sum goes into `/model/layers.{L}/final_norm_layernorm/...`,
 * which the builder leaves without output 3; numgate names that optional output so the fused op
 * itself computes it.
 */
const genaiBuilder: NamingRule = {
  name: "onnxruntime-genai builder (SkipLayerNorm output 3)",
  find(nodes, layers) {
    const byName = new Map(nodes.map((n) => [n.name ?? "", n]));
    const names: string[] = [];
    for (let i = 0; i < layers; i++) {
      const next = i + 1 < layers ? `/model/layers.${i + 1}/input_layernorm/SkipLayerNorm` : `/model/layers.${layers}/final_norm_layernorm/SkipLayerNorm`;
      const node = byName.get(next);
      if (node === undefined) return null;
      let out = node.output[3];
      if (out === undefined || out === "") {
        out = `numgate/layers.${i}/residual`;
        while (node.output.length < 3) node.output.push("");
        node.output[3] = out;
      }
      names.push(out);
    }
    return names;
  },
};

const RULES: readonly NamingRule[] = [genaiBuilder, torchScopes];

/** Finds (and where needed, edits the nodes to emit) the residual after every layer. */
export function findLayerTensors(model: OnnxModel, layers: number, override?: Readonly<Record<string, string>>): LayerTensors {
  if (override !== undefined) {
    const names = Array.from({ length: layers }, (_, i) => override[String(i)]);
    const missing = names.findIndex((n) => n === undefined);
    if (missing >= 0) return { ok: false, reason: `layer_outputs names no tensor for layer ${missing}` };
    const produced = new Set(model.graph.node.flatMap((n) => n.output));
    const absent = (names as string[]).find((n) => !produced.has(n));
    if (absent !== undefined) return { ok: false, reason: `layer_outputs names "${absent}", which no node of the graph produces` };
    return { ok: true, names: names as string[], how: "candidate manifest layer_outputs" };
  }
  for (const rule of RULES) {
    const names = rule.find(model.graph.node, layers);
    if (names !== null) return { ok: true, names, how: rule.name };
  }
  return { ok: false, reason: `no node naming numgate knows (${RULES.map((r) => r.name).join("; ")}) locates the ${layers} decoder layers, and the candidate manifest names no layer_outputs` };
}

const CACHE = resolve("node_modules/.cache/numgate/graphs");

/**
 * A cached copy of `graph` whose outputs also include the residual after every layer, and those
 * tensor names in layer order. Idempotent per (graph bytes, layers, override).
 */
export function withLayerOutputs(graph: string, layers: number, override?: Readonly<Record<string, string>>): { path: string; names: string[]; how: string } | { reason: string } {
  const bytes = readFileSync(graph);
  const key = createHash("sha256").update(bytes).update(JSON.stringify({ layers, override: override ?? null, v: 1 })).digest("hex").slice(0, 24);
  const dir = join(CACHE, key);
  const out = join(dir, "decoder.onnx");
  const model = readModel(graph);
  const found = findLayerTensors(model, layers, override);
  if (!found.ok) return { reason: found.reason };
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const have = new Set(model.graph.output.map((o) => o.name));
    const elemType = new Map(model.graph.valueInfo.map((v) => [v.name, v.type?.tensorType?.elemType]));
    for (const name of found.names) {
      if (!have.has(name)) model.graph.output.push({ name, type: { tensorType: { elemType: elemType.get(name) ?? 1 } } });
    }
    for (const rel of externalDataFiles(model)) {
      const target = join(dir, rel);
      if (existsSync(target)) continue;
      mkdirSync(dirname(target), { recursive: true });
      try {
        linkSync(resolve(dirname(graph), rel), target);
      } catch {
        copyFileSync(resolve(dirname(graph), rel), target);
      }
    }
    const tmp = `${out}.${process.pid}.tmp`;
    writeModel(model, tmp);
    renameSync(tmp, out);
  }
  return { path: out, names: found.names, how: found.how };
}
