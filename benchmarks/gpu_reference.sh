#!/usr/bin/env bash
# Grade the flagship PyTorch reference solution on a real NVIDIA GPU and check that it
# trained there. Run on a GPU host after ./setup.sh (plus `nngrade image build` for the
# Docker backend); prints the GPU, the grade, the time and where the models ran.
#
#   benchmarks/gpu_reference.sh [--backend docker|local]     (default: auto)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${OUT:-gpu-out}
NNGRADE=${NNGRADE:-.venv/bin/nngrade}
PYTHON=${PYTHON:-.venv/bin/python}

nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'torch sees no GPU'; \
print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"

started=$(date +%s)
"$NNGRADE" grade fashion_mnist_cnn reference_solutions/fashion_mnist_cnn/pytorch.ipynb \
  --out "$OUT_DIR" --gpus 0 "$@"
echo "wall time: $(( $(date +%s) - started )) s"

"$PYTHON" - "$OUT_DIR" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
report = json.loads((out / "report.json").read_text())
executed = (out / "executed.ipynb").read_text()
on_gpu = "device: cuda" in executed
print(f"score {report['score']}/{report['max_score']}, status {report['status']}, "
      f"sandbox {report['sandbox']['backend']}, gpus {report['sandbox']['limits']['gpus']}, "
      f"notebook trained on {'the GPU' if on_gpu else 'the CPU'}, "
      f"{report['execution']['seconds']} s in the sandbox")
sys.exit(0 if report["score"] == report["max_score"] and on_gpu else 1)
PY
