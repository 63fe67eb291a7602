#!/usr/bin/env bash
# Records the qwen3.5-tiny oracle and candidates on the GPU machine (torch + transformers there):
# training on the GPU, the oracle itself on the CPU in fp32. Usage (repo root):
#   bash oracles/record/device_record_qwen35_tiny.sh OUT_DIR [--weights FILE | --train-steps N]
set -uo pipefail
out=${1:?out dir}; shift
export PYTHONUNBUFFERED=1
python3 -c "import torch, transformers, onnx, onnxruntime, safetensors; print('torch', torch.__version__, 'transformers', transformers.__version__, 'onnx', onnx.__version__, 'ort', onnxruntime.__version__, 'cuda', torch.cuda.is_available())"
python3 oracles/record/record_qwen35.py --config oracles/record/configs/qwen3.5-tiny.json --seed 0 \
  --name qwen3.5-tiny --out "$out/qwen3.5-tiny" --candidates "$@"
