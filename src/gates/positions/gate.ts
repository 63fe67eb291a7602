/**
 * M-RoPE positions, integer-exact. Per prompt:
 * - numgate-port: numgate's get_rope_index equals what transformers' rotary module received;
 * - prefill / engine-formula: the candidate host's positions equal transformers' (naming the first
 *   token and plane), or a plain statement that the prompt is outside what the formula expresses;
 * - decode: the position the host gives each decode step equals what generate() used;
 * - rope-tables: the cos/sin tables the graph built match its positions under the model's section
 *   layout (the family's rotary layout), naming the first frequency that takes the wrong plane.
 * Plus the recorded padded batches: numgate's port against transformers, prefill and decode resume.
 * What is family-specific (the port, the host, the rotary layout) comes from the session.
 */
import type { PositionsSupport, RotaryLayout } from "../../models/session.ts";
import { rungMessage, type PromptResult } from "../../verdicts/prompt-result.ts";
import { combineVerdicts } from "../../verdicts/verdict.ts";
import type { Gate, GateContext } from "../gate.ts";
import { POSITIONS_MAX_ROWS, type PositionsCheck, type PositionsEvidence, type PositionsRow } from "./evidence.ts";

const PLANES = ["t", "h", "w"] as const;

/** Compare two [3][S] position sets (with strides), build the evidence rows. */
function comparePositions(
  name: string,
  expected: (plane: number, tok: number) => number,
  actual: (plane: number, tok: number) => number,
  count: number,
  tokenId: (tok: number) => number,
  tokenLabel: (tok: number) => number = (t) => t,
): PositionsCheck {
  const rows: PositionsRow[] = [];
  let mismatches = 0;
  let first: PositionsCheck["first"];
  for (let tok = 0; tok < count; tok++) {
    const e: [number, number, number] = [expected(0, tok), expected(1, tok), expected(2, tok)];
    const a: [number, number, number] = [actual(0, tok), actual(1, tok), actual(2, tok)];
    if (e[0] === a[0] && e[1] === a[1] && e[2] === a[2]) continue;
    mismatches++;
    if (first === undefined) {
      const p = e.findIndex((v, i) => v !== a[i]);
      first = { token: tokenLabel(tok), plane: PLANES[p] ?? "t", expected: e[p] ?? 0, actual: a[p] ?? 0 };
    }
    if (rows.length < POSITIONS_MAX_ROWS) rows.push({ token: tokenLabel(tok), token_id: tokenId(tok), expected: e, actual: a });
  }
  return { name, compared: count, mismatches, expressible: true, ...(first === undefined ? {} : { first }), rows };
}

function describeCheck(c: PositionsCheck): string {
  if (!c.expressible) return `${c.name}: ${c.note ?? "not expressible"}`;
  if (c.first === undefined) return `${c.name}: ${c.compared}/${c.compared} exact`;
  const where = c.name === "decode" ? `decode step at cache index ${c.first.token}` : `token ${c.first.token}`;
  return `${c.name}: ${c.mismatches}/${c.compared} differ, first at ${where} plane ${c.first.plane.toUpperCase()} (expected ${c.first.expected}, got ${c.first.actual})${c.note === undefined ? "" : ` — ${c.note}`}`;
}

async function promptChecks(ctx: GateContext, support: PositionsSupport, name: string): Promise<PositionsCheck[]> {
  const { dump } = ctx.session.prompt(name);
  const ids = dump.get("inputs.input_ids").toNumbers();
  const S = ids.length;
  const hooked = dump.get("positions.prefill").toInt32Array(); // [3,1,S]
  const checks: PositionsCheck[] = [];

  const port = support.port(dump);
  const portCheck = comparePositions("numgate-port", (p, t) => hooked[p * S + t] ?? NaN, (p, t) => port.positionIds[p * S + t] ?? NaN, S, (t) => ids[t] ?? -1);
  const recordedDelta = dump.get("positions.rope_delta").toNumbers()[0];
  if (recordedDelta !== port.deltas[0]) {
    portCheck.mismatches++;
    portCheck.note = `rope delta ${port.deltas[0]} but transformers gave ${recordedDelta}`;
  }
  checks.push(portCheck);

  const cand = await support.host(name);
  const checkName = cand.source === "engine-formula" ? "engine-formula" : "prefill";
  if (!cand.expressible) {
    checks.push({ name: checkName, compared: 0, mismatches: 0, expressible: false, note: `outside what the engine formula can express: ${cand.reason ?? ""}`, rows: [] });
  } else {
    checks.push(comparePositions(checkName, (p, t) => hooked[p * S + t] ?? NaN, (p, t) => cand.positions[p * S + t] ?? NaN, S, (t) => ids[t] ?? -1));
  }

  if (dump.has("positions.decode")) {
    const dec = dump.get("positions.decode"); // [3,1,steps]
    const steps = dec.shape[2] ?? 0;
    const d = dec.toInt32Array();
    const greedy = dump.get("greedy.tokens").toNumbers();
    const check = comparePositions(
      "decode",
      (p, i) => d[p * steps + i] ?? NaN,
      (p, i) => cand.decodeAt(S + i)[p] ?? NaN,
      steps,
      (i) => greedy[i] ?? -1,
      (i) => S + i,
    );
    if (check.first !== undefined) check.note = `decode step ${check.first.token - S + 1} (cache index ${check.first.token})`;
    checks.push(check);
  }

  if (ctx.session.missing.rope_tables === undefined && cand.expressible) {
    const tables = await ctx.session.ropeTables(name);
    if (tables !== undefined) checks.push(ropeTableCheck(ctx, support.rotary, cand.positions, S, tables.cos.toFloat32(), tables.sin.toFloat32()));
  }
  return checks;
}

function ropeTableCheck(ctx: GateContext, rotary: RotaryLayout, pos: Int32Array, S: number, cos: Float32Array, sin: Float32Array): PositionsCheck {
  const width = rotary.width;
  const half = width / 2;
  const inv = rotary.invFreq;
  const tol = typeof ctx.options["rope_table_tolerance"] === "number" ? (ctx.options["rope_table_tolerance"] as number) : 1e-4;
  const planeName = (p: number) => (PLANES[p] ?? "t").toUpperCase();
  let mismatches = 0;
  let first: PositionsCheck["first"];
  let note: string | undefined;
  const matches = (tok: number, j: number, p: number) => {
    const a = p * (inv[j] ?? 0);
    return Math.abs((cos[tok * width + j] ?? NaN) - Math.cos(a)) <= tol && Math.abs((sin[tok * width + j] ?? NaN) - Math.sin(a)) <= tol;
  };
  for (let tok = 0; tok < S; tok++) {
    for (let j = 0; j < half; j++) {
      const plane = rotary.planeOfFrequency[j] ?? 0;
      const expectedPos = pos[plane * S + tok] ?? 0;
      if (matches(tok, j, expectedPos)) continue;
      mismatches++;
      if (first === undefined) {
        const found = ([0, 1, 2] as const).find((pi) => matches(tok, j, pos[pi * S + tok] ?? 0));
        const actual = found === undefined ? -1 : (pos[found * S + tok] ?? -1);
        first = { token: tok, plane: PLANES[plane] ?? "t", expected: expectedPos, actual };
        note =
          `rotary frequency ${j} should take plane ${planeName(plane)} (${rotary.description})` +
          (found === undefined ? " but matches no plane" : ` but the table was built from plane ${planeName(found)}`);
      }
    }
  }
  return { name: "rope-tables", compared: S * half, mismatches, expressible: true, ...(note === undefined ? {} : { note }), ...(first === undefined ? {} : { first }), rows: [] };
}

async function batchChecks(ctx: GateContext, support: PositionsSupport, batchName: string): Promise<PositionsCheck[]> {
  const dump = ctx.oracle.dump(batchName);
  const idsT = dump.get("inputs.input_ids");
  const B = idsT.shape[0] ?? 0;
  const S = idsT.shape[1] ?? 0;
  const ids = idsT.toNumbers();
  const mask = dump.get("inputs.attention_mask").toNumbers();
  const port = support.port(dump);
  const pre = dump.get("positions.prefill").toInt32Array(); // [3,B,S]
  const dec = dump.get("positions.decode"); // [3,B,steps]
  const steps = dec.shape[2] ?? 0;
  const d = dec.toInt32Array();
  const checks: PositionsCheck[] = [];
  const host = support.hostBatch === undefined ? undefined : await support.hostBatch(batchName);
  for (let b = 0; b < B; b++) {
    // transformers leaves padded slots at whatever generate() put there; only real tokens are compared.
    const real = [...Array(S).keys()].filter((t) => mask[b * S + t] === 1);
    const c = comparePositions(
      `numgate-port row ${b} (left-padded)`,
      (p, i) => pre[(p * B + b) * S + (real[i] ?? 0)] ?? NaN,
      (p, i) => port.positionIds[(p * B + b) * S + (real[i] ?? 0)] ?? NaN,
      real.length,
      (i) => ids[b * S + (real[i] ?? 0)] ?? -1,
      (i) => real[i] ?? 0,
    );
    checks.push(c);
    const dc = comparePositions(
      `decode row ${b} (left-padded)`,
      (p, i) => d[(p * B + b) * steps + i] ?? NaN,
      (p, i) => port.decodeAt(b, i)[p] ?? NaN,
      steps,
      () => -1,
      (i) => S + i,
    );
    checks.push(dc);
    if (host !== undefined) {
      checks.push(
        comparePositions(
          `${host.source} row ${b} (left-padded)`,
          (p, i) => pre[(p * B + b) * S + (real[i] ?? 0)] ?? NaN,
          (p, i) => host.positionIds[(p * B + b) * S + (real[i] ?? 0)] ?? NaN,
          real.length,
          (i) => ids[b * S + (real[i] ?? 0)] ?? -1,
          (i) => real[i] ?? 0,
        ),
      );
      const hd = comparePositions(`${host.source} decode row ${b} (left-padded)`, (p, i) => d[(p * B + b) * steps + i] ?? NaN, (p, i) => host.decodeAt(b, i)[p] ?? NaN, steps, () => -1, (i) => S + i);
      if (hd.first !== undefined) hd.note = `decode step ${hd.first.token - S + 1} (cache index ${hd.first.token})`;
      checks.push(hd);
    }
  }
  return checks;
}

export const positionsGate: Gate<PositionsEvidence> = async (ctx) => {
  const results: PromptResult<PositionsEvidence>[] = [];
  const summarize = (name: string, checks: PositionsCheck[]): PromptResult<PositionsEvidence> => {
    const bad = checks.filter((c) => c.mismatches > 0 || !c.expressible);
    return {
      prompt: name,
      verdict: bad.length === 0 ? "pass" : "fail",
      message: bad.length === 0 ? checks.map(describeCheck).join("; ") : bad.map(describeCheck).join("; "),
      evidence: { kind: "positions", checks },
    };
  };
  const support = ctx.session.positions;
  if (support === undefined) return { verdict: "skipped", message: ctx.session.missing.positions ?? "the session has no positions", prompts: [], units: {} };
  for (const name of ctx.prompts) results.push(summarize(name, await promptChecks(ctx, support, name)));
  if (ctx.options["padded_batches"] !== false) {
    for (const b of ctx.oracle.manifest.positions_batches) results.push(summarize(b.name, await batchChecks(ctx, support, b.name)));
  }
  const verdict = combineVerdicts(results.map((r) => r.verdict));
  return { verdict, message: rungMessage(results, `positions exact on ${results.length} prompts (prefill, decode, rope tables)`), prompts: results, units: {} };
};
