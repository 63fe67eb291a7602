#!/usr/bin/env bash
# Runs the tiny ladder on the torch engine for every CUDA configuration (fp32, tf32, bf16, fp16 x
# eager, sdpa) and records each run's frames for the replay engine. Needs the GPU machine:
#   NUMGATE_PYTHON=/path/to/venv/bin/python engines/torch/record_cuda_matrix.sh [out-dir]
# Each configuration gets a candidate file and a recording under out-dir (default
# oracles/qwen3-vl-tiny/candidates/recordings); commit them and add torch-replay-cuda-* entries
# to gates/qwen3-vl-tiny.yaml (then calibrate their thresholds from the replays).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-oracles/qwen3-vl-tiny/candidates/recordings}"
: "${NUMGATE_PYTHON:?set NUMGATE_PYTHON to an interpreter with engines/torch/requirements.txt}"
"$NUMGATE_PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'"
for dtype in fp32 tf32 bf16 fp16; do
  for attn in eager sdpa; do
    name="torch-cuda-$dtype-$attn"
    cand="oracles/qwen3-vl-tiny/candidates/$name.json"
    node -e '
      const [name, dtype, attn] = process.argv.slice(1);
      const c = JSON.parse(require("fs").readFileSync("oracles/qwen3-vl-tiny/candidates/torch-cpu-fp32.json", "utf8"));
      c.name = name; c.description = `the checkpoint through transformers on cuda in ${dtype}, ${attn} attention (engines/torch)`;
      c.engine.command = c.engine.command.map((a) => (a === "cpu" ? "cuda" : a === "fp32" ? dtype : a === "eager" ? attn : a));
      require("fs").writeFileSync(`oracles/qwen3-vl-tiny/candidates/${name}.json`, JSON.stringify(c, null, 2) + "\n");
    ' "$name" "$dtype" "$attn"
    rm -rf "$OUT/$name"
    echo "== $name"
    NUMGATE_ENGINE_RECORD="$OUT/$name" npx tsx src/cli/main.ts gate qwen3-vl-tiny -c "$cand" --keep-going \
      --report-dir "reports/qwen3-vl-tiny/$name" || true
  done
done
