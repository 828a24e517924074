#!/usr/bin/env bash
# Make the Docker backend usable on this Debian/Ubuntu machine: Debian's docker.io and
# debootstrap, a running engine (started here if none answers), a local Debian base
# image and the grading image built on it from the host's wheels. Used by CI and by
# `./setup.sh --docker`; on a GPU host with registry access, `nngrade image build`
# alone is enough (README, "The grading image").
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
  echo "setup-docker: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "setup-docker: starting dockerd (log: /var/log/nngrade-dockerd.log)"
  setsid nohup dockerd </dev/null >/var/log/nngrade-dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "setup-docker: dockerd did not start" >&2; exit 1; }
fi

image/debian-base.sh nngrade-base:bookworm
.venv/bin/nngrade image build --base nngrade-base:bookworm --cpu --wheelhouse .cache/wheelhouse
# The image is several GB: keep no earlier builds of it, nor the wheels it was built from.
docker image prune --force >/dev/null
rm -rf .cache/wheelhouse
