"""Atomic writes of the probe's results: plain JSON and ``.npy``, never pickle.

A half-written file must never be read as a result, so each write goes to a
temporary name in the same folder and is renamed into place.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def _atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as a pickle-free ``.npy`` file."""
    array = np.asarray(array)
    if array.dtype == object:
        raise TypeError("refusing to write an object array")
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    _atomic(path, buffer.getvalue())


def save_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as strict JSON (NaN and infinity are refused).

    Text from the notebook (an exception's message) may hold lone surrogates, which a
    strict reader refuses along with the whole file: they are written as ``?``.
    """
    text = json.dumps(payload, indent=1, allow_nan=False, ensure_ascii=False)
    _atomic(path, text.encode("utf-8", "replace"))
