#!/usr/bin/env bash
# Build a Debian bookworm base image from Debian's own packages, for hosts that reach
# no image registry (only Debian's package mirror): debootstrap into a folder, then
# `docker import` it. Needs root, debootstrap and a running Docker engine.
#
#   image/debian-base.sh [TAG]        # default tag: nngrade-base:bookworm
set -euo pipefail
TAG=${1:-nngrade-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "debian-base: $TAG already exists"
  exit 0
fi
ROOT=$(mktemp -d /tmp/nngrade-base.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
echo "debian-base: debootstrap bookworm into $ROOT (about half a minute)"
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >/dev/null
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
tar -C "$ROOT" -c . | docker import --change 'CMD ["/bin/bash"]' - "$TAG" >/dev/null
echo "debian-base: built $TAG"
