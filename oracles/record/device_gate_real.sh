#!/usr/bin/env bash
# A real-size Qwen3-VL end to end on the GPU machine: record the oracle (random weights, the real
# configuration from oracles/record/configs/), export the fp32 candidate (weights past 2 GB in
# <graph>.onnx.data), gate it with numgate, and run bench/raw-ort.mjs, the same inference passes in
# a plain onnxruntime-node script, for the rung-by-rung comparison. Each step's wall time and peak
# RSS go to OUT/MODEL.figures; logs and the gate's reports beside it. Needs a built numgate with
# `node` on the PATH (scripts/device-kit.sh unpack there).
#   bash oracles/record/device_gate_real.sh OUT MODEL [THREADS [STEPS]]   (MODEL: qwen3-vl-4b, qwen3-vl-8b)
# STEPS is record,gate (the default), or one of them. An 8B's record and export alone take most of
# one call's ten minutes (469-508 s): run it through oracles/record/device_background.sh, which
# starts this script outside the checkout, in its own process session, and collects it in a second
# call (the checkout is re-synced at each call, which removed a recorded oracles/MODEL/ between two).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:?out dir}; m=${2:?model}; threads=${3:-16}; steps=${4:-record,gate}
export PYTHONUNBUFFERED=1
mkdir -p "$out"
figures="$out/$m.figures"

# Runs a command and appends its exit status, wall time and peak RSS (its process tree's
# ru_maxrss, so no /usr/bin/time is needed) to the figures under a label.
measure() {
  local label=$1; shift
  python3 -c '
import resource, subprocess, sys, time
figures, label, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
t = time.time()
r = subprocess.run(cmd)
with open(figures, "a") as f:
    f.write(f"{label}.exit {r.returncode}\n{label}.wall_s {time.time() - t:.1f}\n")
    f.write(f"{label}.peak_rss_kb {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
' "$figures" "$label" "$@"
}

if [[ ",$steps," == *,record,* ]]; then
: > "$figures"
rm -rf "oracles/$m"
measure record python3 oracles/record/record.py --config "oracles/record/configs/$m.json" --seed 0 --name "$m" \
  --out "oracles/$m" --candidates fp32 --no-weights --init-device cuda > "$out/$m.record.log" 2>&1
{
  echo "oracle_dump_bytes $(du -sb "oracles/$m/prompts" | cut -f1)"
  echo "candidate_bytes $(du -sb "oracles/$m/candidates" | cut -f1)"
  ls -l "oracles/$m/prompts" "oracles/$m/candidates" | sed 's/^/  /'
} >> "$figures"
cp "oracles/$m/manifest.json" "$out/$m.manifest.json"
cp "oracles/$m/candidates/fp32.json" "$out/$m.candidate.json"
fi
[[ ",$steps," == *,gate,* ]] || exit 0

measure gate node bin/numgate.cjs gate "$m" -c "oracles/$m/candidates/fp32.json" --threads "$threads" --keep-going \
  --report-dir "$out/$m-report" > "$out/$m.gate.log" 2>&1
RAW_ORT_THREADS=$threads measure raw node bench/raw-ort.mjs "oracles/$m/candidates/fp32.json" "oracles/$m" > "$out/$m.raw.log" 2>&1
cat "$figures"
rm -rf "oracles/$m"
