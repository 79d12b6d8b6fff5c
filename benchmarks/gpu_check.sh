#!/usr/bin/env bash
# GPU check for a machine with a CUDA GPU: times a bf16 training step, PyTorch eager
# inference, ONNX Runtime and (when tensorrt imports) TensorRT on small AST-Seg models,
# and writes benchmarks/results/gpu_check.json (and $OUT/gpu_check.json when OUT is set).
# Finishes in under 4 minutes; the Python side stops starting stages after --budget-s.
#   benchmarks/gpu_check.sh                 # on the GPU machine
#   benchmarks/gpu_check.sh --cpu-smoke     # the same code on a CPU, smallest model
# PYTHON picks the interpreter (default: python3, which must have torch and onnxruntime).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
exec timeout --signal=TERM --kill-after=5 235 "${PYTHON:-python3}" benchmarks/gpu_check.py "$@"
