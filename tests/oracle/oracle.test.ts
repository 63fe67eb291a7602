/**
 * Reading recorded oracles: the embedded tiny oracle (config path) and a smoke oracle recorded
 * through the --hf-id path (a Hugging Face checkpoint folder of the tiny model with its own
 * tokenizer, processor and chat template, made by oracles/record/make_tiny_checkpoint.py).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isNumgateError } from "../../src/errors/numgate-error.ts";
import { Qwen3VLOracleManifestSchema } from "../../src/models/qwen3-vl/manifest.ts";
import { ropeIndexOfDump } from "../../src/models/qwen3-vl/rope-index.ts";
import { Oracle } from "../../src/oracle/oracle.ts";
import { ROOT } from "../helpers/gate-runs.ts";

describe("oracle", () => {
  it("opens the embedded tiny oracle and records which transformers it came from", () => {
    const o = Oracle.open(join(ROOT, "oracles/qwen3-vl-tiny"), Qwen3VLOracleManifestSchema);
    expect(o.manifest.recorder.transformers).toBe("5.17.0");
    expect(o.manifest.recorder.torch).toBe("2.11.0");
    expect(o.prompts.map((p) => p.kind)).toEqual(["multimodal", "multimodal", "text"]);
    // The image does not start at position 0: text runs before and after it.
    const mm = o.prompts[0]!;
    const ids = o.dump(mm.name).get("inputs.input_ids").toNumbers();
    expect(ids.indexOf(o.manifest.tokens.image_token_id)).toBeGreaterThan(0);
    expect(ids.lastIndexOf(o.manifest.tokens.image_token_id)).toBeLessThan(ids.length - 1);
    expect(Math.min(...o.prompts.map((p) => Math.min(p.min_margin_greedy, p.min_margin_teacher_forced)))).toBeGreaterThan(0.1);
  });

  it("opens an oracle recorded through the --hf-id path; numgate's positions equal the hooked ones", () => {
    const o = Oracle.open(join(ROOT, "tests/fixtures/oracle-hf-smoke"), Qwen3VLOracleManifestSchema);
    expect(o.manifest.source.kind).toBe("hf");
    for (const p of o.prompts) {
      const d = o.dump(p.name);
      const hooked = d.get("positions.prefill").toInt32Array();
      expect(Array.from(ropeIndexOfDump(o.manifest, d).positionIds)).toEqual(Array.from(hooked));
    }
  });

  it("a manifest field of the wrong type names the file and the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "numgate-oracle-"));
    try {
      cpSync(join(ROOT, "tests/fixtures/oracle-hf-smoke"), dir, { recursive: true });
      const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { text: { num_layers: unknown } };
      m.text.num_layers = "six";
      writeFileSync(join(dir, "manifest.json"), JSON.stringify(m, null, 2));
      let err: unknown;
      try {
        Oracle.open(dir, Qwen3VLOracleManifestSchema);
      } catch (e) {
        err = e;
      }
      expect(isNumgateError(err) && err.code).toBe("schema_violation");
      expect((err as Error).message).toContain("manifest.json");
      expect((err as Error).message).toContain("text.num_layers");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
