#!/usr/bin/env bash
# Runs a tiny model's ladder on the torch engine for every CUDA configuration (fp32, tf32, bf16,
# fp16 x eager, sdpa) and records each run's frames for the replay engine. Needs the GPU machine
# and a built numgate (npm run build; there: scripts/device-kit.sh) with `node` on the PATH:
#   NUMGATE_PYTHON=python3 engines/torch/record_cuda_matrix.sh MODEL [REPORT_DIR]
# MODEL is a tiny spec with a torch-cpu-fp32 candidate (qwen3-vl-tiny, qwen3.5-tiny). For each
# configuration it writes oracles/MODEL/candidates/torch-cuda-<dtype>-<attn>.json (the live
# engine), recordings/torch-cuda-<dtype>-<attn>/ (its frames) and torch-replay-cuda-<dtype>-<attn>.json
# (the replay of those frames, which runs with no GPU); reports go under REPORT_DIR (default
# reports/MODEL). The eight configurations run side by side: each is a small model on one GPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL="${1:?usage: record_cuda_matrix.sh MODEL [REPORT_DIR]}"
REPORTS="${2:-reports/$MODEL}"
CANDS="oracles/$MODEL/candidates"
: "${NUMGATE_PYTHON:?set NUMGATE_PYTHON to an interpreter with engines/torch/requirements.txt}"
"$NUMGATE_PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'"
[[ -f "$CANDS/torch-cpu-fp32.json" ]] || { echo "no $CANDS/torch-cpu-fp32.json to start from" >&2; exit 2; }
pids=()
for dtype in fp32 tf32 bf16 fp16; do
  for attn in eager sdpa; do
    name="torch-cuda-$dtype-$attn"
    node -e '
      const fs = require("fs");
      const [cands, name, dtype, attn] = process.argv.slice(1);
      const c = JSON.parse(fs.readFileSync(`${cands}/torch-cpu-fp32.json`, "utf8"));
      const live = { ...c, name, description: `the checkpoint through transformers on cuda in ${dtype}, ${attn} attention (engines/torch)` };
      live.engine = { ...c.engine, command: c.engine.command.map((a) => (a === "cpu" ? "cuda" : a === "fp32" ? dtype : a === "eager" ? attn : a)) };
      fs.writeFileSync(`${cands}/${name}.json`, JSON.stringify(live, null, 2) + "\n");
      const replay = { ...c, name: name.replace("torch-", "torch-replay-"),
        description: `the torch engine on cuda in ${dtype}, ${attn} attention, replayed from frames recorded on the GPU machine (no torch or GPU needed)`,
        engine: { command: ["node", "--import", "tsx", "{root}/src/backends/engine/replay-engine.ts", `{candidate_dir}/recordings/${name}`], timeout_s: 60 } };
      delete replay.files; // the replay reads frames, not the checkpoint
      fs.writeFileSync(`${cands}/${replay.name}.json`, JSON.stringify(replay, null, 2) + "\n");
    ' "$CANDS" "$name" "$dtype" "$attn"
    rm -rf "$CANDS/recordings/$name"
    NUMGATE_ENGINE_RECORD="$CANDS/recordings/$name" node bin/numgate.cjs gate "$MODEL" -c "$CANDS/$name.json" --keep-going -q \
      --report-dir "$REPORTS/$name" > "$REPORTS.$name.log" 2>&1 &
    pids+=($!)
  done
done
status=0
for p in "${pids[@]}"; do wait "$p" || true; done
for dtype in fp32 tf32 bf16 fp16; do
  for attn in eager sdpa; do
    name="torch-cuda-$dtype-$attn"
    verdict=$(node -e 'try { const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(r.runs.map((x) => `${x.verdict}: ${x.rungs.map((g) => `${g.id}=${g.verdict}`).join(" ")}`).join("; ")); } catch (e) { console.log(`no report (${e.message})`); }' "$REPORTS/$name/report.json")
    echo "== $MODEL $name: $verdict"
    [[ -d "$CANDS/recordings/$name" ]] || { echo "   no frames recorded; see $REPORTS.$name.log" >&2; status=1; }
  done
done
exit $status
