/**
 * The seed models at real size: their gate specs load, and with no oracle recorded (the GPU-sized
 * recordings are not in this repository) the gate prints the exact record command and the disk,
 * RAM and time that recording takes at that size, computed by the family from the recorder config.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { loadFamily } from "../../src/models/registry.ts";
import { runGate } from "../../src/run/run-gate.ts";
import { REPO, runCli } from "../helpers/cli.ts";

/** Parameter counts the model cards state (billions); the estimate must land within 1%. */
const REAL: Record<string, { family: string; params?: number; untiedHead: boolean }> = {
  "qwen3-vl-2b": { family: "qwen3-vl", params: 2.13, untiedHead: false },
  "qwen3-vl-4b": { family: "qwen3-vl", params: 4.44, untiedHead: false },
  "qwen3-vl-8b": { family: "qwen3-vl", params: 8.77, untiedHead: true },
  "qwen3.5-2b": { family: "qwen3.5", untiedHead: false },
};

describe.each(Object.entries(REAL))("%s without its oracle", (model, want) => {
  it("stops before the ladder with the record command and the cost at this size", async () => {
    const spec = parseYaml(readFileSync(join(REPO, "gates", `${model}.yaml`), "utf8")) as { family: string; record_command: string };
    expect(spec.family).toBe(want.family);
    const r = await runGate({ root: REPO, model });
    expect(r.setupError?.code).toBe("oracle_not_recorded");
    const msg = r.setupError?.message ?? "";
    expect(msg).toContain(spec.record_command);
    expect(msg).toContain(`At this size (from oracles/record/configs/${model}.json)`);
    for (const line of ["  disk: ", "  RAM:  about ", "  time: about ", "  assumptions: "]) expect(msg).toContain(line);
    expect(msg).toContain(want.untiedHead ? "untied lm_head" : "tied head");
  });

  it("estimates from the recorder config: fp32 weights are parameters x 4 bytes", async () => {
    const config = JSON.parse(readFileSync(join(REPO, "oracles", "record", "configs", `${model}.json`), "utf8")) as unknown;
    const e = (await loadFamily(want.family)).estimate?.(config, `${model}.json`);
    if (e === undefined) throw new Error("no estimate");
    expect(e.weightsBytes).toBe(e.parameters * 4);
    if (want.params !== undefined) expect(Math.abs(e.parameters / 1e9 - want.params) / want.params).toBeLessThan(0.01);
    expect(e.peakRamBytes).toBeGreaterThan(e.weightsBytes);
    expect(e.oracleBytes).toBeGreaterThan(50e6);
    expect(e.seconds).toBeGreaterThan(0);
  });
});

it("npm run gate qwen3-vl-4b prints the record command and the estimate, and exits non-zero", async () => {
  const r = await runCli(["gate", "qwen3-vl-4b"]);
  expect(r.code).not.toBe(0);
  const out = r.stdout + r.stderr;
  expect(out).toContain("python3 oracles/record/record.py --hf-id Qwen/Qwen3-VL-4B-Instruct");
  expect(out).toMatch(/disk: [\d.]+ GB/);
  expect(out).toMatch(/RAM: {2}about [\d.]+ GB peak/);
});
