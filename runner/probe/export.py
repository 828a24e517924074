"""Export each trained model to ONNX, so that what is scored can be computed elsewhere.

Everything the probe reports from inside the student's kernel could be changed by the
student. A graph exported here is evaluated again by the host's clean room, which has
never run student code, and read by the host as data: a model is credited with what
its graph computes. Next to the graph goes the model's own output on a few public
calibration inputs, so the host can tell a faithful export from one that is not.

PyTorch models go through torch's TorchScript-based exporter (``dynamo=False``):
measured here, it exports the usual homework models in a fraction of a second, where
the torch.export-based one takes seconds each. Tracing follows the branch the
example takes, which is why the outputs are compared afterwards. Keras 3 models use
Keras' own ``model.export(format="onnx")``; Keras 2 (tf-keras) models, which have no
ONNX export of their own, go through tf2onnx.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .output import save_npy

MAX_GRAPH_BYTES = 256 * 1024 * 1024
REFERENCE_ROWS = 64
_ERROR_CHARS = 1000


def export(index: int | str, adapter: Any, example: np.ndarray, record: dict[str, Any],
           out_dir: Path) -> None:
    """Write ``graphs/model_<index>.onnx`` and the model's outputs on ``example``.

    Fills ``graph``, ``graph_error``, ``reference_outputs`` and ``export_seconds`` of the
    record; never raises: a model that does not export is graded on what the kernel says,
    and the report says so.
    """
    relative = f"graphs/model_{index}.onnx"
    path = out_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        batch = np.ascontiguousarray(example[:REFERENCE_ROWS], dtype=np.float32)
        reference = np.asarray(adapter.predict(batch), dtype=np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adapter.export_onnx(path, batch)
        size = path.stat().st_size
        if size > MAX_GRAPH_BYTES:
            path.unlink()
            raise ValueError(f"the graph is {size} bytes, more than {MAX_GRAPH_BYTES}")
        reference_path = f"graphs/model_{index}_reference.npy"
        save_npy(out_dir / reference_path, reference)
        record["graph"], record["reference_outputs"] = relative, reference_path
    except Exception as exc:
        path.unlink(missing_ok=True)
        record["graph_error"] = f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
    record["export_seconds"] = round(time.perf_counter() - started, 3)
