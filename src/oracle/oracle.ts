/**
 * A recorded oracle: its manifest plus one safetensors dump per prompt, opened lazily so that a
 * single-rung run reads only what that rung compares.
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { NumgateError } from "../errors/numgate-error.ts";
import { confinedPath } from "../files/confine.ts";
import { firstNonFinite } from "../metrics/finite.ts";
import { loadJsonFile } from "../spec/json.ts";
import { readSafetensorsSync, type SafetensorsFile } from "../tensor/safetensors.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { z } from "zod/mini";
import type { OracleManifest } from "./manifest.ts";

export interface OracleDump {
  readonly name: string;
  readonly file: string;
  has(tensor: string): boolean;
  /** The declared shape, from the header alone (no tensor data read). */
  shape(tensor: string): readonly number[];
  get(tensor: string): Tensor;
}

export class Oracle<M extends OracleManifest = OracleManifest> {
  readonly dir: string;
  readonly manifestPath: string;
  readonly manifest: M;
  private readonly dumps = new Map<string, SafetensorsFile>();
  /** Per dump file, the tensors already checked for finite, non-degenerate values (each once a run). */
  private readonly checked = new Map<string, Set<string>>();

  /** Seconds spent reading tensor data from the dumps so far (lazy, positioned reads). */
  get readSeconds(): number {
    let s = 0;
    for (const d of this.dumps.values()) s += d.readSeconds;
    return s;
  }

  private constructor(dir: string, manifestPath: string, manifest: M) {
    this.dir = dir;
    this.manifestPath = manifestPath;
    this.manifest = manifest;
  }

  private static manifestOf<T>(dir: string, schema: z.ZodMiniType<T>): T {
    const manifestPath = join(dir, "manifest.json");
    if (!existsSync(manifestPath)) {
      throw new NumgateError("oracle_not_recorded", `no oracle manifest: ${manifestPath} does not exist`, {
        file: relative(process.cwd(), manifestPath) || manifestPath,
      });
    }
    return loadJsonFile(manifestPath, schema, "oracle manifest");
  }

  /** Opens an oracle with its family's full manifest schema. */
  static open<M extends OracleManifest>(dir: string, schema: z.ZodMiniType<M>, allowedRoots: readonly string[] = []): Oracle<M> {
    const manifestPath = join(dir, "manifest.json");
    const manifest = Oracle.manifestOf(dir, schema);
    const oracle = new Oracle<M>(dir, manifestPath, manifest);
    const manifestRel = relative(process.cwd(), manifestPath) || manifestPath;
    manifest.prompts.forEach((p, i) => confinedPath(dir, p.file, { manifest: manifestRel, field: `prompts[${i}].file` }, allowedRoots));
    manifest.positions_batches.forEach((p, i) => confinedPath(dir, p.file, { manifest: manifestRel, field: `positions_batches[${i}].file` }, allowedRoots));
    // Two prompts on one dump would both "pass" while one of them was never recorded.
    const owner = new Map<string, string>();
    manifest.prompts.forEach((p, i) => {
      const other = owner.get(p.file);
      if (other !== undefined) {
        throw new NumgateError("oracle_invalid", `prompts "${other}" and "${p.name}" name the same dump ${p.file}; each prompt needs its own`, { file: manifestRel, field: `prompts[${i}].file` });
      }
      owner.set(p.file, p.name);
    });
    for (const p of [...manifest.prompts, ...manifest.positions_batches]) {
      const path = join(dir, p.file);
      if (!existsSync(path)) {
        throw new NumgateError("file_not_found", `prompt "${p.name}" names a dump that does not exist: ${path}`, {
          file: relative(process.cwd(), manifestPath),
          field: `prompts.${p.name}.file`,
        });
      }
    }
    return oracle;
  }

  get prompts(): readonly M["prompts"][number][] {
    return this.manifest.prompts;
  }

  /** Every file the oracle consists of (manifest first), for hashing into the report. */
  files(): string[] {
    return [this.manifestPath, ...[...this.manifest.prompts, ...this.manifest.positions_batches].map((p) => join(this.dir, p.file))];
  }

  dump(name: string): OracleDump {
    const entry = [...this.manifest.prompts, ...this.manifest.positions_batches].find((p) => p.name === name);
    if (entry === undefined) {
      throw new NumgateError("tensor_missing", `oracle has no prompt "${name}"`, { file: relative(process.cwd(), this.manifestPath) });
    }
    const path = join(this.dir, entry.file);
    let st = this.dumps.get(path);
    if (st === undefined) {
      st = readSafetensorsSync(path);
      this.dumps.set(path, st);
      this.checkBinding(name, st);
    }
    const file = st;
    const where = relative(process.cwd(), path) || path;
    let checked = this.checked.get(path);
    if (checked === undefined) {
      checked = new Set<string>();
      this.checked.set(path, checked);
    }
    const seen = checked;
    return {
      name,
      file: where,
      has: (t) => file.has(t),
      shape: (t) => {
        if (!file.has(t)) throw new NumgateError("tensor_missing", `oracle dump has no tensor "${t}"`, { file: where, field: t });
        return file.info(t).shape;
      },
      get: (t) => {
        const tensor = file.get(t);
        if (!seen.has(t)) {
          checkOracleValues(tensor, where, t);
          seen.add(t);
        }
        return tensor;
      },
    };
  }

  /**
   * A dump must be the one its prompt was recorded into: its own metadata (when the recorder wrote
   * the prompt's name), its model, its length and its greedy tokens must all agree with the manifest.
   */
  private checkBinding(name: string, st: SafetensorsFile): void {
    const file = relative(process.cwd(), st.path) || st.path;
    const wrong = (what: string) =>
      new NumgateError("oracle_invalid", `dump does not belong to prompt "${name}" of ${relative(process.cwd(), this.manifestPath)}: ${what}`, { file });
    const meta = st.metadata;
    if (meta["prompt"] !== undefined && meta["prompt"] !== name) throw wrong(`its metadata names prompt "${meta["prompt"]}"`);
    if (meta["model"] !== undefined && meta["model"] !== this.manifest.model) throw wrong(`its metadata names model "${meta["model"]}", the manifest "${this.manifest.model}"`);
    const prompt = this.manifest.prompts.find((p) => p.name === name);
    if (prompt === undefined) return; // a positions batch: its rows are checked by the positions rung
    if (st.has("inputs.input_ids")) {
      const len = st.info("inputs.input_ids").shape.at(-1);
      if (len !== prompt.sequence_length) throw wrong(`inputs.input_ids has ${len} tokens, the manifest says sequence_length ${prompt.sequence_length}`);
    }
    if (st.has("greedy.tokens")) {
      const tokens = st.get("greedy.tokens").toNumbers();
      const n = Math.min(tokens.length, prompt.greedy_tokens.length);
      const i = tokens.slice(0, n).findIndex((t, k) => t !== prompt.greedy_tokens[k]);
      if (i >= 0) throw wrong(`greedy.tokens[${i}] is ${tokens[i]}, the manifest's greedy_tokens[${i}] is ${prompt.greedy_tokens[i]}`);
    }
  }

  tokenName(id: number): string {
    return this.manifest.tokens.names?.[id] ?? `<${id}>`;
  }
}

/**
 * The oracle is the reference, so it is held to what a candidate is held to: a float tensor that
 * holds NaN or Inf, or nothing but zeros, is an oracle problem (never a candidate failure, never
 * a pass), named with the dump, the tensor and the first bad index.
 */
export function checkOracleValues(t: Tensor, file: string, name: string): void {
  if (t.dtype !== "f32" && t.dtype !== "f16" && t.dtype !== "bf16" && t.dtype !== "f64") return;
  const v = t.toFloat32();
  const bad = firstNonFinite(v);
  if (bad >= 0) {
    throw new NumgateError("oracle_invalid", `oracle tensor ${name} is non-finite (${v[bad]}) at flat index ${bad} of ${t.describe()}: re-record the oracle`, { file, field: name });
  }
  // A live tensor answers at its first few elements; only a dead one is read to the end.
  let i = 0;
  while (i < v.length && v[i] === 0) i++;
  if (i === v.length && v.length > 0) {
    throw new NumgateError("oracle_invalid", `oracle tensor ${name} is all zeros (${t.describe()}): a degenerate reference cannot judge a candidate; re-record the oracle`, { file, field: name });
  }
}
