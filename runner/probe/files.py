"""Serve the public data where a notebook looks for it: Colab folders, Drive paths, URLs.

Notebooks read their data from ``/content/...`` (Colab's working folder), from a
mounted Google Drive, or straight from a URL with pandas. The sandbox has none
of these, and no network; the host has written the public part into the
working folder under the names the dataset file lists. So, and only when the
file asked for does not exist (or is a URL):

- ``/content/<rest>`` is read as ``<working folder>/<rest>``;
- any path or URL ending in a listed name is read from the public copy;
- a listed table (images as CSV rows, Kaggle's form) is built from the public
  split the first time it is asked for, in ``~/.cache/nngrade-tables``.

Each substitution is noted once for the report. Writing is never redirected.
"""

from __future__ import annotations

import builtins
import email.message
import io
import os
import sys
import urllib.request
import urllib.response
from typing import Any

from .state import STATE

COLAB_ROOT = "/content/"
_original_urlopen = urllib.request.urlopen
_working_folder = os.getcwd()


def _public_files() -> dict[str, str]:
    return {str(k): str(v) for k, v in (STATE.config.get("public_files") or {}).items()}


def _read_idx(path: str) -> Any:
    """An uncompressed IDX file of unsigned bytes (the grader wrote it), as an array."""
    import numpy as np

    with io.FileIO(path, "rb") as handle:
        data = handle.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def build_table(name: str) -> str | None:
    """The CSV table ``name`` (label, pixel1, ...) of the public split, built once."""
    spec = (STATE.config.get("public_tables") or {}).get(name)
    if not spec:
        return None
    target = os.path.join(os.path.expanduser("~"), ".cache", "nngrade-tables", name)
    if os.path.isfile(target):
        return target
    import numpy as np

    images = _read_idx(spec["images"])
    labels = _read_idx(spec["labels"])
    table = np.column_stack([labels, images.reshape(len(images), -1)])
    words = [str(value).encode() for value in range(256)]
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with io.FileIO(f"{target}.part", "wb") as raw, io.BufferedWriter(raw, 1 << 20) as out:
        pixels = table.shape[1] - 1
        out.write(b"label," + b",".join(b"pixel%d" % i for i in range(1, pixels + 1)) + b"\n")
        for start in range(0, len(table), 1000):  # a thousand rows as Python lists at a time
            for row in table[start:start + 1000].tolist():
                out.write(b",".join([words[value] for value in row]) + b"\n")
    os.replace(f"{target}.part", target)
    return target


def substitute(name: Any) -> str | None:
    """The local file to read instead of ``name`` (a path or URL), or None."""
    try:
        text = os.fspath(name)
    except TypeError:
        text = getattr(name, "full_url", None)  # a urllib Request
    if not isinstance(text, str):
        return None
    base = text.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    public = _public_files()
    if base in public and os.path.isfile(public[base]):
        return public[base]
    table = build_table(base)
    if table is not None:
        return table
    if text.startswith(COLAB_ROOT):
        local = os.path.join(_working_folder, text[len(COLAB_ROOT):])
        if os.path.isfile(local):
            return local
    return None


def _note(asked: Any, served: str) -> None:
    name = getattr(asked, "full_url", None) or os.fspath(asked)
    STATE.note("note.probe.public_copy", served=served, asked=str(name)[:200])


def falling_back(opener: Any) -> Any:
    """``opener`` (an ``open``) falling back to the public copy of a missing data file."""
    if getattr(opener, "_nngrade_public", False):
        return opener

    def open_public(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        try:
            return opener(file, mode, *args, **kwargs)
        except FileNotFoundError:
            if isinstance(file, int) or any(flag in mode for flag in "wax+"):
                raise
            served = substitute(file)
            if served is None:
                raise
            _note(file, served)
            return opener(served, mode, *args, **kwargs)

    open_public._nngrade_public = True  # type: ignore[attr-defined]
    open_public.__doc__ = opener.__doc__
    return open_public


def urlopen_public(url: Any, *args: Any, **kwargs: Any) -> Any:
    """``urlopen`` that answers requests for a listed file from the public copy."""
    text = getattr(url, "full_url", url)
    if isinstance(text, str) and "://" in text:
        served = substitute(text)
        if served is not None:
            _note(url, served)
            with io.FileIO(served, "rb") as handle:
                body = handle.read()
            headers = email.message.Message()
            headers["Content-Length"] = str(len(body))
            return urllib.response.addinfourl(io.BytesIO(body), headers, text, 200)
    return _original_urlopen(url, *args, **kwargs)


def working_folder() -> str:
    """The notebook's working folder, as it was when the kernel started (a notebook may
    ``chdir`` away from it)."""
    return _working_folder


def install_files() -> None:
    """Replace ``open`` (also IPython's own, in the notebook's namespace) and ``urlopen``."""
    global _working_folder
    _working_folder = os.getcwd()
    builtins.open = io.open = falling_back(builtins.open)
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and "open" in shell.user_ns:
        shell.user_ns["open"] = falling_back(shell.user_ns["open"])
    if urllib.request.urlopen is not urlopen_public:
        urllib.request.urlopen = urlopen_public
