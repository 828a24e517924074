"""Register every Keras model whose ``fit`` or ``train_on_batch`` is called, with
statistics of its inputs.

Both are wrapped on the ``Model`` base class of Keras 3 (which is also
``tensorflow.keras`` in TF 2.16+) and of tf_keras, right after the notebook
imports them. The model is held strongly, so rebinding the variable or training
several models in a loop still measures each one. Models trained in a hand-written
loop are found through their optimizer (track_optimizers.py).
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import numpy as np

from .state import STATE, InputStats, Trained, feature_moments, sample_rows
from .track_optimizers import wrap_apply_gradients, wrap_keras3_apply

_STAT_ROWS = 1024
_MARK = "_nngrade_probe_wrapped"


def _shape_of(x: Any) -> tuple[int, ...] | None:
    shape = getattr(x, "shape", None)
    if shape is None:
        return None
    try:
        dims = [int(d) for d in tuple(shape)[1:]]
    except (TypeError, ValueError):
        return None
    return tuple(dims)


def input_stats(x: Any) -> InputStats | None:
    """Per-sample shape and moments of ``x`` when it is an array or tensor."""
    spec = getattr(x, "element_spec", None)
    if spec is not None:  # a tf.data.Dataset: shape only, never consume it
        first = spec[0] if isinstance(spec, tuple) else spec
        shape = getattr(first, "shape", None)
        if shape is not None and None not in tuple(shape)[1:]:
            return InputStats(shape=tuple(int(d) for d in tuple(shape)[1:]))
        return None
    shape = _shape_of(x)
    if shape is None or isinstance(x, (list, tuple, dict)):
        return None
    try:
        head = x[:_STAT_ROWS]
        if hasattr(head, "detach"):
            head = head.detach().cpu()
        sample = np.asarray(head)
    except Exception:
        return InputStats(shape=shape)
    stats = InputStats(shape=shape, dtype=str(sample.dtype))
    if sample.size and np.issubdtype(sample.dtype, np.number):
        values = sample.astype(np.float64)
        stats.mean, stats.std = float(values.mean()), float(values.std())
        stats.feature_mean, stats.feature_std = feature_moments(values) or (None, None)
        stats.rows = sample_rows(values)
    return stats


def dataset_stats(dataset: Any) -> InputStats | None:
    """Statistics of one batch of a tf.data.Dataset (re-iterable, so nothing is consumed)."""
    for element in dataset.take(1):
        return input_stats(element[0] if isinstance(element, tuple) else element)
    return None


def _register(model: Any, x: Any) -> None:
    dataset = x if hasattr(x, "element_spec") and hasattr(x, "take") else None
    for trained in STATE.keras_models:
        if trained.model is model:
            if trained.stats is None or not trained.stats.has_moments():
                trained.stats = input_stats(x) or trained.stats
                trained.dataset = dataset
            return
    STATE.keras_models.append(Trained(framework="keras", model=model, order=STATE.next_order(),
                                      stats=input_stats(x), dataset=dataset))


def _wrap_training(model_class: type, name: str) -> None:
    """Register the model, then run its ``fit`` or ``train_on_batch`` as it was."""
    train = getattr(model_class, name)
    if getattr(train, _MARK, False):
        return

    @functools.wraps(train)
    def train_and_register(self: Any, x: Any = None, *args: Any, **kwargs: Any) -> Any:
        try:
            _register(self, x)
        except Exception as exc:
            STATE.note("note.probe.fit_not_tracked", error=f"{type(exc).__name__}: {exc}")
        return train(self, x, *args, **kwargs)

    setattr(train_and_register, _MARK, True)
    setattr(model_class, name, train_and_register)


def install_keras(keras: ModuleType) -> None:
    """Post-import callback for ``keras`` (Keras 3)."""
    for name in ("fit", "train_on_batch"):
        _wrap_training(keras.Model, name)
    wrap_keras3_apply(keras.optimizers.Optimizer)


def install_tf_keras(tf_keras: ModuleType) -> None:
    """Post-import callback for ``tf_keras`` (Keras 2 on TF 2.16+)."""
    for name in ("fit", "train_on_batch"):
        _wrap_training(tf_keras.Model, name)
    for optimizer in (tf_keras.optimizers.Optimizer, tf_keras.optimizers.legacy.Optimizer):
        wrap_apply_gradients(optimizer)
