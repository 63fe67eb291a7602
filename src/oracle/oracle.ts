/**
 * A recorded oracle: its manifest plus one safetensors dump per prompt, opened lazily so that a
 * single-rung run reads only what that rung compares.
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { NumgateError } from "../errors/numgate-error.ts";
import { confinedPath } from "../files/confine.ts";
import { loadJsonFile } from "../spec/json.ts";
import { readSafetensorsSync, type SafetensorsFile } from "../tensor/safetensors.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { z } from "zod";
import type { OracleManifest } from "./manifest.ts";

export interface OracleDump {
  readonly name: string;
  readonly file: string;
  has(tensor: string): boolean;
  get(tensor: string): Tensor;
}

export class Oracle<M extends OracleManifest = OracleManifest> {
  readonly dir: string;
  readonly manifestPath: string;
  readonly manifest: M;
  private readonly dumps = new Map<string, SafetensorsFile>();

  private constructor(dir: string, manifestPath: string, manifest: M) {
    this.dir = dir;
    this.manifestPath = manifestPath;
    this.manifest = manifest;
  }

  private static manifestOf<T>(dir: string, schema: z.ZodType<T>): T {
    const manifestPath = join(dir, "manifest.json");
    if (!existsSync(manifestPath)) {
      throw new NumgateError("oracle_not_recorded", `no oracle manifest: ${manifestPath} does not exist`, {
        file: relative(process.cwd(), manifestPath) || manifestPath,
      });
    }
    return loadJsonFile(manifestPath, schema, "oracle manifest");
  }

  /** Opens an oracle with its family's full manifest schema. */
  static open<M extends OracleManifest>(dir: string, schema: z.ZodType<M>, allowedRoots: readonly string[] = []): Oracle<M> {
    const manifestPath = join(dir, "manifest.json");
    const manifest = Oracle.manifestOf(dir, schema);
    const oracle = new Oracle<M>(dir, manifestPath, manifest);
    const manifestRel = relative(process.cwd(), manifestPath) || manifestPath;
    manifest.prompts.forEach((p, i) => confinedPath(dir, p.file, { manifest: manifestRel, field: `prompts[${i}].file` }, allowedRoots));
    manifest.positions_batches.forEach((p, i) => confinedPath(dir, p.file, { manifest: manifestRel, field: `positions_batches[${i}].file` }, allowedRoots));
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
    }
    const file = st;
    return {
      name,
      file: relative(process.cwd(), path) || path,
      has: (t) => file.has(t),
      get: (t) => file.get(t),
    };
  }

  tokenName(id: number): string {
    return this.manifest.tokens.names?.[id] ?? `<${id}>`;
  }
}
