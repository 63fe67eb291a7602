#!/usr/bin/env bash
# numgate on the GPU machine, which has Python, torch and transformers but no Node and no network.
#
#   bash scripts/device-kit.sh build     here: writes .kit/ (a Node binary and the runtime packages
#                                        numgate's compiled CLI imports, linux-x64 only, xz-compressed)
#   bash scripts/device-kit.sh unpack    there: unpacks .kit/ into node_modules/ and .kit/bin/node;
#                                        then `export PATH=$PWD/.kit/bin:$PATH`
#
# Carry `.kit` and `dist` (npm run build) with the call. The bundle in dist/ holds every JavaScript
# dependency but what it leaves out (scripts/build.mjs): onnxruntime-node's native addon, loaded from
# the installed package (which the kit carries with its linux-x64 binaries only), and
# transformers.js, which a gate on onnxruntime or an engine never loads. The whole working tree that
# travels must stay under 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  build)
    rm -rf .kit && mkdir -p .kit
    xz -T0 -6 -c "$(command -v node)" > .kit/node.xz
    tar -C node_modules -cf - \
      --exclude='onnxruntime-node/bin/napi-v6/darwin' --exclude='onnxruntime-node/bin/napi-v6/win32' \
      --exclude='onnxruntime-node/bin/napi-v6/linux/arm64' \
      onnxruntime-node onnxruntime-common \
      | xz -T0 -6 > .kit/nm.tar.xz
    du -sh .kit/*
    ;;
  unpack)
    mkdir -p .kit/bin node_modules
    xz -dc .kit/node.xz > .kit/bin/node && chmod +x .kit/bin/node
    xz -dc .kit/nm.tar.xz | tar -C node_modules -xf -
    .kit/bin/node --version
    ;;
  *)
    echo "usage: bash scripts/device-kit.sh build|unpack" >&2
    exit 2
    ;;
esac
