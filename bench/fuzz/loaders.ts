/**
 * Nightly-style fuzzing of the spec and manifest loaders: `npx tsx bench/fuzz/loaders.ts [--runs N]
 * [--seed S]` (default 10,000 cases per loader). Prints, per loader, the cases run, the failures
 * (with the first few inputs, shortened), the time and what the cases came to (a value, which error
 * codes); exits 1 when any case failed.
 */
import { parseArgs } from "node:util";
import fc from "fast-check";
import { loaderTargets } from "./loader-fuzz.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "10000" }, seed: { type: "string" } } });
const runs = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error("usage: npx tsx bench/fuzz/loaders.ts [--runs N] [--seed S]");
  process.exit(2);
}

const CHUNK = 500;
const shorten = (s: string): string => JSON.stringify(s.length > 160 ? `${s.slice(0, 80)}…${s.slice(-80)}` : s);

console.log(`loader fuzzing: ${runs} cases per loader, seed ${seed}, node ${process.version}`);
let failedTotal = 0;
for (const target of loaderTargets()) {
  const t0 = performance.now();
  const failures: { text: string; why: string }[] = [];
  const outcomes = new Map<string, number>();
  // Sampled in chunks (a fresh seed each) so that every failing case is counted, not only the first.
  for (let done = 0, chunk = 0; done < runs; done += CHUNK, chunk++) {
    for (const text of fc.sample(target.arbitrary, { numRuns: Math.min(CHUNK, runs - done), seed: seed + chunk })) {
      try {
        const outcome = target.check(text);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      } catch (e) {
        failures.push({ text, why: e instanceof Error ? e.message.split("\n")[0] ?? "" : String(e) });
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(`${target.name.padEnd(20)} ${String(runs).padStart(7)} cases  ${String(failures.length).padStart(5)} failures  ${seconds.toFixed(1).padStart(6)} s`);
  const tally = [...outcomes].sort((a, b) => b[1] - a[1]).map(([outcome, n]) => `${outcome} ${n}`);
  console.log(`    outcomes: ${tally.join(", ")}`);
  for (const f of failures.slice(0, 5)) console.log(`    ${f.why}\n      input: ${shorten(f.text)}`);
  failedTotal += failures.length;
}
process.exitCode = failedTotal === 0 ? 0 : 1;
