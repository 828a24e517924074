"""Measure every trained model after the notebook's last cell.

Per model: layers, input format, and what the task records: for
classification the calibration accuracy and the predicted class of each
evaluation input (for segmentation, of each of its pixels); for forecasting a
closed-loop forecast of the horizon.
One model failing never stops the others: its exception becomes the
``error`` of its record.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .export import REFERENCE_ROWS, export
from .feeding import DataFacts, Format, apply, choose, classes
from .output import save_npy
from .state import STATE, Trained
from .track_optimizers import optimizer_trained

MAX_MODELS = 64
_ERROR_CHARS = 2000


def user_namespace() -> dict[str, Any]:
    """The notebook's variables: IPython's user namespace, else ``__main__``."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        return shell.user_ns
    main = sys.modules.get("__main__")
    return vars(main) if main is not None else {}


def names_of(obj: Any, namespace: dict[str, Any]) -> list[str]:
    """Public variables bound to ``obj``, also as an item of a list, tuple or dict variable.

    Students keep models in ``models = {"wide": ...}`` or lists as often as in plain
    variables; ``_``-prefixed names (IPython's output history) are skipped.
    """
    found: list[str] = []
    for key, value in list(namespace.items()):
        name = str(key)
        if name.startswith("_") or name in ("In", "Out"):
            continue
        if value is obj:
            found.append(name)
        elif isinstance(value, dict):
            found += [f"{name}[{k!r}]" for k, v in list(value.items())[:1000] if v is obj]
        elif isinstance(value, list | tuple):
            found += [f"{name}[{i}]" for i, v in enumerate(value[:1000]) if v is obj]
    return [name[:200] for name in found[:20]]


def trained_models() -> list[Trained]:
    """Every trained model of either framework, in the order training began."""
    found = list(STATE.keras_models)
    found += optimizer_trained(found)
    tracker = STATE.torch_tracker
    if tracker is not None:
        found += [Trained("pytorch", module, order, stats)
                  for order, module, stats in tracker.trained()]
    return sorted(found, key=lambda t: t.order)


def _adapter(trained: Trained) -> Any:
    if trained.framework == "pytorch":
        from .torch_model import TorchModel

        return TorchModel(sys.modules["torch"], trained.model)
    from .keras_model import KerasModel

    return KerasModel(trained.model)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]


def _load(path: str | None) -> np.ndarray | None:
    return None if not path else np.load(path, allow_pickle=False)


def measure_one(index: int, trained: Trained, data: dict[str, Any], namespace: dict[str, Any],
                out_dir: Path) -> dict[str, Any]:
    """A ``MeasuredModel`` record for one trained model."""
    record: dict[str, Any] = {
        "index": index, "framework": trained.framework,
        "class_name": type(trained.model).__name__[:200],
        "names": names_of(trained.model, namespace), "params": 0, "layers": [],
        "input": None, "calibration_accuracy": None, "calibration_metrics": {},
        "predictions": None, "error": None, "graph": None, "graph_error": None,
        "reference_outputs": None, "export_seconds": None, "inputs": [], "outputs": [],
        "parts": [], "graphs": []}
    try:
        if trained.dataset is not None and not (trained.stats and trained.stats.has_moments()):
            from .track_keras import dataset_stats

            trained.stats = dataset_stats(trained.dataset) or trained.stats
        with _adapted(index, trained) as adapter:
            _describe_parts(index, adapter, record)
            record["params"] = adapter.param_count()
            if data["task"] == "forecasting":
                _forecast(index, adapter, trained, data, record, out_dir)
            elif data["task"] == "generation":
                _describe_layers(index, adapter, None, record)
                _EXAMPLES[index] = (trained, data["calib_x"][:8])
                _PARTS.add(index)
            else:
                _classify(index, adapter, trained, data, record, out_dir)
    except Exception as exc:
        record["error"] = _error(exc)
    return record


@contextmanager
def _adapted(index: int, trained: Trained) -> Iterator[Any]:
    """The model's adapter; its train/eval modes are restored afterwards, whatever happens."""
    adapter = _adapter(trained)
    try:
        yield adapter
    finally:
        try:
            adapter.close()
        except Exception as exc:
            STATE.note("note.probe.modes_not_restored", model=index, error=_error(exc))


def _describe_layers(index: int, adapter: Any, sample: np.ndarray | None,
                     record: dict[str, Any]) -> None:
    try:
        record["layers"] = adapter.layers(sample)
    except Exception as exc:
        STATE.note("note.probe.layers_not_described", model=index, error=_error(exc))


def _describe_parts(index: int, adapter: Any, record: dict[str, Any]) -> None:
    try:
        record["inputs"], record["outputs"] = adapter.signature()
        record["parts"] = adapter.parts()
    except Exception as exc:
        STATE.note("note.probe.parts_not_described", model=index, error=_error(exc))


def _classify(index: int, adapter: Any, trained: Trained, data: dict[str, Any],
              record: dict[str, Any], out_dir: Path) -> None:
    """Class ids for the evaluation inputs, in the format found on the calibration sample."""
    fmt: Format | None = None
    failure: Exception | None = None
    try:
        fmt = choose(adapter.predict, data["calib_x"], data["calib_y"], data["num_classes"],
                     trained.stats, adapter.declared_shape(), data["facts"], data["pixels"])
    except Exception as exc:
        failure = exc
    _describe_layers(index, adapter, None if fmt is None else apply(data["calib_x"][:2], fmt),
                     record)
    if fmt is None:
        raise failure or ValueError("no input format")
    record["input"] = fmt.as_json()
    record["calibration_accuracy"] = fmt.accuracy
    if fmt.accuracy is not None:
        record["calibration_metrics"] = {"accuracy": fmt.accuracy}
    predicted = classes(adapter.predict, data["eval_x"], fmt, data["pixels"])
    _EXAMPLES[index] = (trained, apply(data["calib_x"][:REFERENCE_ROWS], fmt))
    relative = f"predictions/model_{index}.npy"
    save_npy(out_dir / relative, predicted)
    record["predictions"] = relative
    if data.get("perturbed_x") is not None:
        relative = f"predictions/model_{index}_perturbed.npy"
        save_npy(out_dir / relative, classes(adapter.predict, data["perturbed_x"], fmt,
                                             data["pixels"]))
        record["perturbed_predictions"] = relative


def _forecast(index: int, adapter: Any, trained: Trained, data: dict[str, Any],
              record: dict[str, Any], out_dir: Path) -> None:
    """A closed-loop forecast of the horizon from the end of the public history."""
    from . import forecast

    history, horizon = data["history"], data["horizon"]
    fmt = None
    try:
        fmt = forecast.choose(adapter.predict, history, horizon, trained.stats,
                              adapter.declared_shape(), data["scalers"], data["period"])
    finally:
        sample = None
        if fmt is not None:
            row = fmt.scaling.forward(history[-(fmt.window.length + fmt.scaling.lag):])
            sample = row.astype(np.float32).reshape((1, *fmt.window.shape))
        _describe_layers(index, adapter, sample, record)
    record["input"] = fmt.as_json()
    record["calibration_metrics"] = {"rmse": fmt.one_step_rmse}
    values = forecast.closed_loop(adapter.predict, history, horizon, fmt)
    _EXAMPLES[index] = (trained, forecast.calibration_windows(history, fmt))
    relative = f"predictions/model_{index}.npy"
    save_npy(out_dir / relative, values)
    record["predictions"] = relative


def measure_models(spec: dict[str, Any], namespace: dict[str, Any],
                   out_dir: Path) -> list[dict[str, Any]]:
    """Records for the trained models, at most ``max_models`` of them."""
    task = str(spec.get("task", "classification"))
    if task == "generation":
        calib_x = _load(spec.get("calibration_inputs"))
        if calib_x is None:
            raise ValueError("config models.calibration_inputs is missing")
        data = {"task": task, "calib_x": calib_x}
    elif task == "forecasting":
        from .forecast import fitted_scalers

        history = _load(spec.get("history"))
        if history is None:
            raise ValueError("config models.history is missing")
        data: dict[str, Any] = {"task": task, "history": history.astype(np.float64),
                                "horizon": int(spec["horizon"]),
                                "period": spec.get("period"),
                                "scalers": fitted_scalers(namespace)}
    else:
        eval_x = _load(spec.get("eval_inputs"))
        if eval_x is None:
            raise ValueError("config models.eval_inputs is missing")
        calib_x = _load(spec.get("calibration_inputs"))
        calib_y = _load(spec.get("calibration_labels")) if calib_x is not None else None
        data = {"task": task, "eval_x": eval_x,
                "perturbed_x": _load(spec.get("perturbed_inputs")),
                "calib_x": calib_x if calib_x is not None else eval_x,
                "calib_y": None if calib_y is None else calib_y.astype(np.int64),
                "num_classes": int(spec.get("num_classes", 10)),
                "pixels": tuple(spec["pixels"]) if spec.get("pixels") else None,
                "facts": DataFacts.from_config(spec)}
    limit = min(int(spec.get("max_models", 32)), MAX_MODELS)
    models = trained_models()
    if len(models) > limit:
        STATE.note("note.probe.too_many_models", n=len(models), limit=limit)
    _EXAMPLES.clear()
    _PARTS.clear()
    return [measure_one(i, trained, data, namespace, out_dir)
            for i, trained in enumerate(models[:limit])]


EXPORT_BUDGET_SECONDS = 120
_EXAMPLES: dict[int, tuple[Trained, np.ndarray]] = {}
"""Model index -> the model and public inputs in its format, kept for the export."""
_PARTS: set[int] = set()
"""Indices of models whose parts are exported apart (generation)."""


def export_models(records: list[dict[str, Any]], out_dir: Path) -> None:
    """Export every measured model to ONNX, filling its record's graph fields.

    Runs after the records are saved once: an export that crashes the kernel or runs
    out of time loses the graphs, never the measurements.
    """
    started = time.monotonic()
    for record in records:
        index = record["index"]
        if index not in _EXAMPLES:
            continue
        if time.monotonic() - started > EXPORT_BUDGET_SECONDS:
            record["graph_error"] = (f"not exported: the exports took more than "
                                     f"{EXPORT_BUDGET_SECONDS} s in all")
            continue
        trained, example = _EXAMPLES[index]
        try:
            if index in _PARTS:  # generation: the parts, each of its own
                _export_parts(index, trained, example, record, out_dir)
                continue
            with _adapted(index, trained) as adapter:
                export(index, adapter, example, record, out_dir)
        except Exception as exc:
            record["graph_error"] = _error(exc)


def _export_parts(index: int, trained: Trained, images: np.ndarray, record: dict[str, Any],
                  out_dir: Path) -> None:
    """A generative model's parts, each exported as a graph of its own (the model itself
    first): the host tells from each graph which is the decoder and which the encoder."""
    from .export_parts import export_parts, keras_candidates, torch_candidates

    images = images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images
    if trained.framework == "pytorch":
        candidates = torch_candidates(sys.modules["torch"], trained.model, images)
    else:
        candidates = keras_candidates(trained.model, images)

    def failed(name: str, error: str) -> None:
        STATE.note("note.probe.part_not_exported", model=index, part=name or "-",
                   error=error[:300])

    record["graphs"] = export_parts(index, candidates, out_dir, failed)
