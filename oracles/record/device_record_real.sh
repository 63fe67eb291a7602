#!/usr/bin/env bash
# Records full-size Qwen3-VL-4B and -8B oracles with random weights (real configurations from
# oracles/record/configs/) on the GPU machine, one after the other, and writes what it cost:
# wall time per model, the dump sizes on disk, peak RSS of the recorder. The dumps themselves
# stay there (hundreds of MB); the manifests and the figures come back under $OUT.
#   bash oracles/record/device_record_real.sh OUT_DIR WORK_DIR
set -uo pipefail
out=${1:?out dir}; work=${2:?work dir}
export PYTHONUNBUFFERED=1
mkdir -p "$out" "$work"
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cpus', torch.get_num_threads())" | tee "$out/env.txt"
for m in qwen3-vl-4b qwen3-vl-8b; do
  rm -rf "$work/$m"
  start=$(date +%s.%N)
  # Peak RSS of the recorder (its children's ru_maxrss), measured without /usr/bin/time.
  python3 -c 'import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); print("exit", r.returncode); print("peak_rss_kb", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
    python3 oracles/record/record.py --config "oracles/record/configs/$m.json" --seed 0 --name "$m" --out "$work/$m" \
    > "$out/$m.log" 2>&1
  end=$(date +%s.%N)
  {
    echo "model $m"
    echo "wall_s $(python3 -c "print(round($end - $start, 1))")"
    grep -E '^(exit|peak_rss_kb) ' "$out/$m.log"
    echo "dump_bytes $(du -sb "$work/$m/prompts" 2>/dev/null | cut -f1)"
    echo "weights_bytes $(du -sb "$work/$m/model" 2>/dev/null | cut -f1)"
    ls -l "$work/$m/prompts" 2>/dev/null
  } > "$out/$m.figures"
  cp "$work/$m/manifest.json" "$out/$m.manifest.json" 2>/dev/null
  rm -rf "$work/$m/model"
done
