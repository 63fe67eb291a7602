/**
 * The oracle is held to what a candidate is held to. Each case breaks one thing in a copy of the
 * recorded tiny oracle and runs the healthy fp32 candidate against it: the run must end in an
 * `oracle_invalid` error naming the dump (or manifest), the tensor or field and what is wrong,
 * never a candidate failure and never a pass.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import type { Run } from "../../src/report/schema.ts";
import { runGate } from "../../src/run/run-gate.ts";
import { readSafetensorsSync, writeSafetensorsSync } from "../../src/tensor/safetensors.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { FP32_FILES, MODEL, editFile, makeTempRoot, removeTempDirs, type TempRoot } from "../helpers/cli.ts";

afterAll(() => removeTempDirs());

/** Rewrites one tensor of a dump (keeping every other tensor and the metadata). */
function rewriteTensor(root: TempRoot, prompt: string, name: string, edit: (v: Float32Array) => void): void {
  const path = root.path(`oracles/${MODEL}/prompts/${prompt}.safetensors`);
  const st = readSafetensorsSync(path);
  const tensors: Record<string, Tensor> = {};
  for (const n of st.names()) {
    const t = st.get(n);
    if (n === name) {
      const v = Float32Array.from(t.toFloat32());
      edit(v);
      tensors[n] = Tensor.from("f32", t.shape, v);
    } else {
      tensors[n] = Tensor.from(t.dtype, t.shape, t.data.slice() as never);
    }
  }
  writeSafetensorsSync(path, tensors, { ...st.metadata });
}

function editManifest(root: TempRoot, edit: (m: Record<string, any>) => void): void {
  const m = JSON.parse(readFileSync(root.manifest, "utf8")) as Record<string, any>;
  edit(m);
  writeFileSync(root.manifest, JSON.stringify(m, null, 2));
}

async function run(root: TempRoot): Promise<Run> {
  return (await runGate({ root: root.dir, model: MODEL, candidate: "fp32" })).run;
}

/** Every rung and the run that did not pass for the oracle's sake carry oracle_invalid; none passes silently. */
function oracleErrors(r: Run): string[] {
  const errs = [r.error, ...r.rungs.map((g) => g.error)].filter((e) => e !== undefined);
  return errs.filter((e) => e.code === "oracle_invalid").map((e) => e.message);
}

describe("a bad oracle is an oracle error, never a candidate failure or a pass", () => {
  it("NaN in the oracle's teacher-forced logits", async () => {
    const root = makeTempRoot(FP32_FILES);
    rewriteTensor(root, "mm-colours-a", "teacher.logits", (v) => (v[1234] = NaN));
    const r = await run(root);
    expect(r.verdict).toBe("error");
    const tf = r.rungs.find((g) => g.id === "teacher_forced");
    expect(tf?.verdict).toBe("error");
    expect(tf?.error?.code).toBe("oracle_invalid");
    expect(tf?.error?.file).toMatch(/prompts\/mm-colours-a\.safetensors$/);
    expect(tf?.error?.field).toBe("teacher.logits");
    expect(tf?.error?.message).toContain("non-finite (NaN) at flat index 1234");
  });

  it("an all-zero hidden state in the oracle blames the oracle, not the candidate's layer", async () => {
    const root = makeTempRoot(FP32_FILES);
    rewriteTensor(root, "text-count", "decoder.hidden.2", (v) => v.fill(0));
    const r = await run(root);
    const layers = r.rungs.find((g) => g.id === "layers");
    expect(layers?.verdict).toBe("error");
    expect(layers?.error?.code).toBe("oracle_invalid");
    expect(layers?.error?.field).toBe("decoder.hidden.2");
    expect(layers?.error?.message).toContain("all zeros");
  });

  it("a wrong num_layers in the manifest names the manifest field, not the graph", async () => {
    const root = makeTempRoot(FP32_FILES);
    editManifest(root, (m) => (m["text"].num_layers = 7));
    const r = await run(root);
    expect(r.verdict).toBe("error");
    const msgs = oracleErrors(r);
    expect(msgs.length).toBeGreaterThan(0);
    expect(msgs[0]).toContain("text.num_layers");
    expect(msgs[0]).toContain("no decoder.hidden.6");
  });

  it("two prompts naming one dump are refused", async () => {
    const root = makeTempRoot(FP32_FILES);
    editManifest(root, (m) => (m["prompts"][1].file = m["prompts"][0].file));
    const r = await run(root);
    expect(r.error?.code).toBe("oracle_invalid");
    expect(r.error?.field).toBe("prompts[1].file");
    expect(r.error?.message).toContain('prompts "mm-colours-a" and "mm-colours-b" name the same dump');
  });

  it("a dump that is not its prompt's (greedy tokens disagree with the manifest) is refused", async () => {
    const root = makeTempRoot(FP32_FILES);
    editManifest(root, (m) => {
      const [a, b] = [m["prompts"][0], m["prompts"][1]];
      [a.file, b.file] = [b.file, a.file];
    });
    const r = await run(root);
    expect(r.verdict).toBe("error");
    expect(oracleErrors(r).join("\n")).toMatch(/dump does not belong to prompt "mm-colours-a".*greedy\.tokens\[\d+\]/);
  });

  it("an oracle recorded for another model is refused", async () => {
    const root = makeTempRoot(FP32_FILES);
    editFile(root.manifest, (t) => t.replace(`"model": "${MODEL}"`, `"model": "qwen3-vl-4b"`));
    const r = await run(root);
    expect(r.error?.code).toBe("oracle_invalid");
    expect(r.error?.message).toContain('recorded for "qwen3-vl-4b", but the spec gates "qwen3-vl-tiny"');
  });
});
