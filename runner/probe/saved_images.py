"""Images the notebook saved, handed to the host to show in the report.

Homework asks for them ("приложите лучшее сгенерированное изображение"): a notebook
writes ``best.png`` with matplotlib, PIL or torchvision. Only ``out/`` leaves the
sandbox, so after the last cell the images written in the working folder during the run
(newer than the kernel's start; the grader's own files are older) are copied there,
within limits. The host decodes and redraws them before a report shows one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_IMAGES = 8
MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 3
MAX_VISITED = 20_000  # entries looked at: a notebook that writes a million files is not read


def _images(root: Path, since: float) -> list[tuple[float, Path]]:
    found: list[tuple[float, Path]] = []
    visited = 0
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = [d for d in dirs if not d.startswith(".")] if depth < MAX_DEPTH else []
        for name in files:
            visited += 1
            if visited > MAX_VISITED:
                return found
            path = Path(folder) / name
            if path.suffix.lower() not in SUFFIXES or path.is_symlink():
                continue
            try:
                info = path.stat()
            except OSError:
                continue
            if info.st_mtime >= since and 0 < info.st_size <= MAX_BYTES:
                found.append((info.st_mtime, path))
    return found


def save_images(root: Path, since: float, out_dir: Path) -> list[dict[str, Any]]:
    """Copy the images written under ``root`` since ``since`` (the newest ``MAX_IMAGES``,
    oldest first) to ``out_dir/saved/``; records ``{name, file}``."""
    found = sorted(_images(root, since))[-MAX_IMAGES:]
    records = []
    for number, (_, path) in enumerate(found):
        relative = f"saved/image_{number}{path.suffix.lower()}"
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, target)
        except OSError:
            continue
        records.append({"name": str(path.relative_to(root))[:200], "file": relative})
    return records
