/**
 * I/O figures for the lazy safetensors reader and the streaming hash:
 *
 *   npx tsx bench/io/read.ts [--synthetic-mib 1024] [--keep]
 *
 * Prints, for the tiny oracle's dumps and for a synthetic file (1 GiB of f32 by default, written
 * with the streaming writer into the OS temp dir and removed afterwards unless --keep): time to
 * open (8-byte prefix + header, validated), per-tensor read throughput, and sha256 throughput.
 * Every read lands in freshly allocated memory (that is what get() does), so on machines where
 * page faults are expensive (VMs) read throughput is bounded by faulting, not by the disk.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileHasher } from "../../src/files/hash.ts";
import { readSafetensorsSync, writeSafetensorsSync } from "../../src/tensor/safetensors.ts";
import { Tensor } from "../../src/tensor/tensor.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const MiB = 2 ** 20;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Seconds taken by fn. */
function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

const mbps = (bytes: number, seconds: number): string => `${(bytes / 1e6 / seconds).toFixed(0)} MB/s`;

interface Figures {
  file: string;
  bytes: number;
  tensors: number;
  openMs: number;
  readMBps: number;
  getMicros: number;
  largestTensorMBps: number;
  sha256MBps: number;
}

async function measure(path: string, repeats: number): Promise<Figures> {
  const bytes = statSync(path).size;
  const opens: number[] = [];
  for (let i = 0; i < repeats; i++) opens.push(time(() => readSafetensorsSync(path)));
  const f = readSafetensorsSync(path);
  const names = f.names();
  let tensorBytes = 0;
  let largest = { bytes: 0, seconds: Infinity };
  const readAll: number[] = [];
  const gets: number[] = [];
  for (let i = 0; i < repeats; i++) {
    // A fresh reader each time, so nothing is served from the reader's weak cache.
    const r = readSafetensorsSync(path);
    let total = 0;
    readAll.push(
      time(() => {
        for (const name of names) {
          const n = r.info(name).byteLength;
          const s = time(() => r.get(name));
          gets.push(s);
          total += n;
          if (n > largest.bytes || (n === largest.bytes && s < largest.seconds)) largest = { bytes: n, seconds: s };
        }
      }),
    );
    tensorBytes = total;
  }
  // One worker hashes the file `repeats` times (what a run does: one worker for all its inputs),
  // so the figure is hashing, not the worker's start-up.
  const hashes: number[] = [];
  await new FileHasher([path]).result();
  const t0 = performance.now();
  await new FileHasher(Array.from({ length: repeats }, () => path)).result();
  hashes.push((performance.now() - t0) / 1000 / repeats);
  return {
    file: path.startsWith(ROOT) ? path.slice(ROOT.length + 1) : path,
    bytes,
    tensors: names.length,
    openMs: median(opens) * 1000,
    readMBps: tensorBytes / 1e6 / median(readAll),
    getMicros: median(gets) * 1e6,
    largestTensorMBps: largest.bytes / 1e6 / largest.seconds,
    sha256MBps: bytes / 1e6 / median(hashes),
  };
}

function print(fig: Figures): void {
  console.log(
    `${fig.file}: ${(fig.bytes / MiB).toFixed(1)} MiB, ${fig.tensors} tensors | open+header ${fig.openMs.toFixed(2)} ms | ` +
      `get() median ${fig.getMicros.toFixed(0)} us, read all tensors ${fig.readMBps.toFixed(0)} MB/s (largest tensor ${fig.largestTensorMBps.toFixed(0)} MB/s) | sha256 ${fig.sha256MBps.toFixed(0)} MB/s`,
  );
}

const promptsDir = join(ROOT, "oracles/qwen3-vl-tiny/prompts");
console.log("tiny oracle dumps (page cache warm; median of 20 runs):");
for (const name of readdirSync(promptsDir).filter((n) => n.endsWith(".safetensors")).sort()) print(await measure(join(promptsDir, name), 20));

const syntheticMiB = arg("--synthetic-mib", 1024);
const dir = mkdtempSync(join(tmpdir(), "numgate-io-bench-"));
try {
  const path = join(dir, "synthetic.safetensors");
  const perTensor = 128 * MiB;
  const count = Math.max(1, Math.round((syntheticMiB * MiB) / perTensor));
  const tensors: Record<string, Tensor> = {};
  for (let i = 0; i < count; i++) {
    const data = new Float32Array(perTensor / 4);
    for (let j = 0; j < data.length; j += 1024) data[j] = i + j; // not a hole: real bytes on disk
    tensors[`layer.${String(i).padStart(2, "0")}`] = Tensor.from("f32", [perTensor / 4 / 1024, 1024], data);
  }
  const writeSeconds = time(() => writeSafetensorsSync(path, tensors));
  const written = statSync(path).size;
  console.log(`\nsynthetic file: ${count} x f32 tensors of ${perTensor / MiB} MiB, written (streaming writer) at ${mbps(written, writeSeconds)}`);
  for (const k of Object.keys(tensors)) delete tensors[k];
  print(await measure(path, 3));
  // Peak, not current: the writer's source tensors and read tensors awaiting GC count too.
  console.log(`peak RSS of the whole bench: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  if (!process.argv.includes("--keep")) rmSync(dir, { recursive: true, force: true });
}
