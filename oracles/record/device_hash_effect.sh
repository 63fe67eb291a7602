#!/usr/bin/env bash
# Does hashing the inputs on a worker thread slow onnxruntime's 16 threads? Qwen3-VL-4B on the GPU
# machine: record (device_gate_real.sh), then two gate/raw pairs. The first gate hashes the 19 GB
# of inputs on its worker (the hash cache emptied first); the second finds every hash in the cache
# (src/files/hash-cache.ts) and hashes nothing. Results in $OUT/hash-effect.txt.
#   bash oracles/record/device_hash_effect.sh   (carry .kit and dist; see scripts/device-kit.sh)
set -uo pipefail
out=$OUT; m=qwen3-vl-4b
bash scripts/device-kit.sh unpack >/dev/null || exit 1
export PATH=$PWD/.kit/bin:$PATH
rm -rf dist/cli/.hash-cache
bash oracles/record/device_gate_real.sh "$out" $m 16 record > /dev/null 2>&1
grep -v '^  ' "$out/$m.figures"
run() { # label cmd...
  local label=$1; shift
  python3 -c '
import resource, subprocess, sys, time
label, cmd = sys.argv[1], sys.argv[2:]
t = time.time(); r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
print(f"{label} exit {r.returncode} wall_s {time.time() - t:.1f} peak_rss_kb {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
print("\n".join(l for l in r.stdout.splitlines() if ("PASS" in l or "FAIL" in l or "threads" in l) and not l.startswith("[")))
' "$label" "$@"
}
for pair in 1 2; do
  run "gate$pair" node bin/numgate.cjs gate $m -c oracles/$m/candidates/fp32.json --threads 16 --keep-going --report-dir /tmp/rep$pair
  ls dist/cli/.hash-cache | wc -l
  RAW_ORT_THREADS=16 run "raw$pair" node bench/raw-ort.mjs oracles/$m/candidates/fp32.json oracles/$m
done 2>&1 | tee "$out/hash-effect.txt"
