"""Large public folders (a prepared tfds dataset) as Docker volumes, filled once.

A job's own files are copied into its container's memory-backed work space, which is
right for a few megabytes and wrong for an 800 MB dataset that every submission of a
class may read. Such a folder goes instead into a named volume on the engine, through
the API like everything else (so a remote ``DOCKER_HOST`` works), once per content:
the volume's name carries a digest of the folder's file names, sizes and modification
times, and a marker written after the last file says it is whole. Each container then
mounts it read-only at the folder's own path.

Volumes stay on the engine as a cache; ``docker volume ls --filter label=org.nngrade.shared``
lists them and ``docker volume prune --all --filter label=org.nngrade.shared`` removes
those no container uses.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import tarfile
import tempfile
from pathlib import Path

import docker.errors

from runner.sandbox.engine import OWNER_LABEL, owner

SHARED_LABEL = "org.nngrade.shared"
COMPLETE_MARKER = ".nngrade-complete"
FILL_MOUNT = "/nngrade-fill"


def volume_name(folder: Path) -> str:
    """The volume that holds ``folder`` as it is now; computed without the engine."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    listing = [[p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns]
               for p in files]
    digest = hashlib.sha256(json.dumps([str(folder), listing]).encode()).hexdigest()[:20]
    label = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{folder.parent.name}-{folder.name}")[:60]
    return f"nngrade-shared-{label}-{digest}"


def owned_by_nobody(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """A tar member as the engine should unpack it: root's, readable by all, writable by
    none but root (so by no user a container runs)."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = (info.mode | 0o444 | (0o111 if info.isdir() else 0)) & 0o755
    return info


def _tar(folder: Path, dest: Path) -> None:
    with tarfile.open(dest, "w") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name, filter=owned_by_nobody)


def _marker(folder: Path) -> bytes:
    buffer = io.BytesIO()
    data = str(folder).encode()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(COMPLETE_MARKER)
        info.size, info.mode = len(data), 0o444
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def ensure_volume(client, image: str, folder: Path, name: str) -> None:
    """Create and fill volume ``name`` with ``folder`` unless a whole copy is there.

    A container that is created but never started lends the volume a path for the
    archive calls; concurrent graders filling the same volume write the same bytes.
    """
    client.volumes.create(name, labels={SHARED_LABEL: str(folder)[:200]})
    holder = client.containers.create(  # labelled: a grader that dies leaves no orphan
        image, ["true"], network_disabled=True, labels={OWNER_LABEL: owner()},
        volumes={name: {"bind": FILL_MOUNT, "mode": "rw"}})
    try:
        try:
            holder.get_archive(f"{FILL_MOUNT}/{COMPLETE_MARKER}")
            return
        except docker.errors.NotFound:
            pass
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "folder.tar"
            _tar(folder, archive)
            with open(archive, "rb") as stream:
                holder.put_archive(FILL_MOUNT, stream)
        holder.put_archive(FILL_MOUNT, _marker(folder))  # last: the copy is whole
    finally:
        with contextlib.suppress(docker.errors.APIError):
            holder.remove(force=True)
