/**
 * Nightly fuzzing of the safetensors reader and the engine frame parser:
 *
 *   npx tsx bench/fuzz/readers.ts [--runs N] [--seed S]
 *
 * Runs N cases (default 10,000) per parser through the properties of bench/fuzz/properties.ts
 * and prints, per parser, how many inputs were accepted, refused with a NumgateError, and
 * failed the property (with the first few failing inputs), and the time taken. Unlike the
 * quick runs in `npm test`, a failure does not stop the run, so one night counts them all.
 * Exit code 1 if anything failed.
 */
import fc from "fast-check";
import { checkSafetensorsCase, checkWireCase, cleanupFuzzFiles, safetensorsCase, wireCase } from "./properties.ts";

interface Tally {
  accepted: number;
  rejected: number;
  failed: number;
  examples: string[];
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i === -1 ? undefined : Number(process.argv[i + 1]);
  if (v !== undefined && !Number.isSafeInteger(v)) throw new Error(`${name} needs an integer`);
  return v ?? fallback;
}

function fuzz<C extends { how: string; bytes: Uint8Array }>(name: string, arb: fc.Arbitrary<C>, check: (c: C) => "accepted" | "rejected", runs: number, seed: number): Tally {
  const tally: Tally = { accepted: 0, rejected: 0, failed: 0, examples: [] };
  const t0 = performance.now();
  fc.assert(
    fc.property(arb, (c) => {
      try {
        tally[check(c)]++;
      } catch (e) {
        tally.failed++;
        if (tally.examples.length < 5) {
          const bytes = Buffer.from(c.bytes.subarray(0, 48)).toString("hex");
          tally.examples.push(`${c.how} (${c.bytes.length} bytes, starts ${bytes}): ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 200)}` : String(e)}`);
        }
      }
    }),
    { numRuns: runs, seed },
  );
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${name.padEnd(12)} ${runs} cases in ${seconds.toFixed(1)} s (${Math.round(runs / seconds)}/s): ` +
      `${tally.accepted} accepted, ${tally.rejected} refused with NumgateError, ${tally.failed} failed`,
  );
  for (const ex of tally.examples) console.log(`  FAIL ${ex}`);
  return tally;
}

const runs = arg("--runs", 10_000);
const seed = arg("--seed", Date.now() % 2 ** 31);
console.log(`numgate reader fuzz: ${runs} cases per parser, seed ${seed} (rerun with --seed ${seed})`);
try {
  const results = [
    fuzz("safetensors", safetensorsCase, checkSafetensorsCase, runs, seed),
    fuzz("engine wire", wireCase, checkWireCase, runs, seed),
  ];
  process.exitCode = results.some((r) => r.failed > 0) ? 1 : 0;
} finally {
  cleanupFuzzFiles();
}
