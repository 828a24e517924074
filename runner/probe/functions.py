"""Evaluate named notebook functions on the grader's arguments.

Each function gets the whole argument array once: a float64 torch tensor when
the notebook imported torch (so autograd can run), else the numpy array. The
result is stored as float64, with the number of backward passes it started.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from .output import save_npy
from .state import STATE

_ERROR_CHARS = 2000


def _as_float64(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    if isinstance(value, (list, tuple)):
        value = [_as_float64(item) for item in value]
    return np.asarray(value, dtype=np.float64)


def _call(fn: Any, args: np.ndarray) -> Any:
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "tensor"):
        return fn(torch.tensor(args, dtype=torch.float64))
    return fn(args)


def evaluate(spec: dict[str, Any], index: int, user_ns: dict[str, Any],
             out_dir: Path) -> dict[str, Any]:
    """One ``FunctionValues`` record; every failure becomes its ``error``."""
    name = str(spec.get("name", ""))
    record: dict[str, Any] = {"name": name[:100], "values": None, "autograd_calls": 0,
                              "error": None}
    counter = STATE.autograd_counter
    before = counter.calls if counter is not None else 0
    try:
        if name not in user_ns:
            raise NameError(f"name {name!r} is not defined")
        fn = user_ns[name]
        if not callable(fn):
            raise TypeError(f"{name!r} is a {type(fn).__name__}, not callable")
        args = np.load(spec["args"], allow_pickle=False)
        values = _as_float64(_call(fn, args))
        relative = f"functions/function_{index}.npy"
        save_npy(out_dir / relative, values)
        record["values"] = relative
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        record["error"] = f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
    finally:
        after = STATE.autograd_counter.calls if STATE.autograd_counter is not None else 0
        record["autograd_calls"] = max(0, after - before)
    return record
