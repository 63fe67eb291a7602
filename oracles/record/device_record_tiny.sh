#!/usr/bin/env bash
# Records the qwen3-vl-tiny oracle and candidates on the GPU machine (torch + transformers there).
# Usage (repo root): bash oracles/record/device_record_tiny.sh OUT_DIR [--weights FILE | --train-steps N]
set -uo pipefail
out=${1:?out dir}; shift
export PYTHONUNBUFFERED=1
python3 -c "import torch, transformers, onnx, onnxruntime, safetensors; print('torch', torch.__version__, 'transformers', transformers.__version__, 'onnx', onnx.__version__, 'ort', onnxruntime.__version__, 'cuda', torch.cuda.is_available())"
python3 oracles/record/record.py --config oracles/record/configs/qwen3-vl-tiny.json --seed 0 \
  --name qwen3-vl-tiny --out "$out/qwen3-vl-tiny" --candidates "$@"
