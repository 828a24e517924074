#!/usr/bin/env bash
# Set up nngrade on a fresh Debian/Ubuntu machine: system packages, then a virtual
# environment in .venv with nngrade, PyTorch, TensorFlow, Ray and the test tools, and
# the student environment in .student-env: the Python the local sandbox runs notebooks
# with, holding what the grading image holds (image/requirements.txt) and nothing of
# nngrade's own.
# Safe to run again: it only installs what is missing or differs from the pins.
#   ./setup.sh            nngrade, with the local (bubblewrap) sandbox
#   ./setup.sh --docker   also a Docker engine and the grading image (root, several GB)
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(bubblewrap dataset-fashion-mnist)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: please install ${missing[*]} (apt-get install ${missing[*]}) and rerun" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import runner, docker, sqlalchemy, sklearn, onnx, babel, ray, psycopg, torch, torchvision, tensorflow, pytest, hypothesis, playwright, onnxruntime, tf2onnx, fastapi, uvicorn, jinja2, multipart" 2>/dev/null; then
  echo "setup: installing nngrade with PyTorch and TensorFlow into .venv (a few minutes)"
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e ".[torch,tensorflow,ray,postgres,dev]"
fi
# Quick when .student-env already has every pinned version; see runner/sandbox/student_env.py.
.venv/bin/python -m runner.sandbox.student_env --python "$PYTHON" .student-env
if [[ ${1:-} == "--docker" ]]; then
  image/setup-docker.sh
fi
echo "setup: ready ($(.venv/bin/nngrade --version))"
