"""Find Keras models trained without ``fit``: ``train_on_batch`` or a hand-written loop.

A GAN trains its generator and discriminator in a ``tf.GradientTape`` loop; neither
model's ``fit`` is called, so the ``fit`` hook never sees them. What every way of
training a Keras model shares is the optimizer: Keras 3's ``Optimizer.apply`` (which
``apply_gradients``, ``fit`` and ``train_on_batch`` all end in) and Keras 2's
``apply_gradients``. The hook records the variables an optimizer updated (inside a
``tf.function`` it runs once, while tracing, with the real variables); after the last
cell, :func:`optimizer_trained` finds the live models those variables belong to.

A model whose updated variables all belong to a model already found (the layers of a
``fit``-trained model, the encoder inside a trained VAE) is not counted again.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
from typing import Any

from .state import STATE, Trained

MAX_VARIABLES = 100_000
_MARK = "_nngrade_probe_wrapped"
_UPDATED: dict[int, tuple[Any, int]] = {}
"""id(variable) -> (the variable, held so its id stays its own; when first updated)."""


def _record(variables: Any) -> None:
    for variable in variables or ():
        key = id(variable)
        if key not in _UPDATED and len(_UPDATED) < MAX_VARIABLES:
            _UPDATED[key] = (variable, STATE.next_order())


def wrap_keras3_apply(optimizer_class: type) -> None:
    """``Optimizer.apply(grads, trainable_variables=None)`` of Keras 3."""
    apply = optimizer_class.apply
    if getattr(apply, _MARK, False):
        return

    @functools.wraps(apply)
    def apply_and_record(self: Any, grads: Any, trainable_variables: Any = None,
                         *args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(Exception):  # noticing must never break training
            _record(trainable_variables if trainable_variables is not None
                    else getattr(self, "_trainable_variables", None))
        return apply(self, grads, trainable_variables, *args, **kwargs)

    setattr(apply_and_record, _MARK, True)
    optimizer_class.apply = apply_and_record


def wrap_apply_gradients(optimizer_class: type) -> None:
    """``apply_gradients(grads_and_vars, ...)`` of Keras 2 (tf-keras) optimizers."""
    apply_gradients = optimizer_class.apply_gradients
    if getattr(apply_gradients, _MARK, False):
        return

    @functools.wraps(apply_gradients)
    def apply_and_record(self: Any, grads_and_vars: Any, *args: Any, **kwargs: Any) -> Any:
        pairs = list(grads_and_vars)  # often a zip: read it once, pass it on as a list
        with contextlib.suppress(Exception):
            _record(variable for _, variable in pairs)
        return apply_gradients(self, pairs, *args, **kwargs)

    setattr(apply_and_record, _MARK, True)
    optimizer_class.apply_gradients = apply_and_record


def _model_classes() -> tuple[type, ...]:
    classes = []
    for name in ("keras", "tf_keras"):
        module = sys.modules.get(name)
        model = getattr(module, "Model", None) if module is not None else None
        if isinstance(model, type):
            classes.append(model)
    return tuple(classes)


def _variable_ids(model: Any) -> set[int]:
    try:
        return {id(v) for v in model.trainable_variables}
    except Exception:
        return set()


def optimizer_trained(known: list[Trained]) -> list[Trained]:
    """Live Keras models an optimizer updated that ``known`` does not already cover,
    largest first among equals, each once."""
    classes = _model_classes()
    if not _UPDATED or not classes:
        return []
    covered: set[int] = set()
    for trained in known:
        if trained.framework == "keras":
            covered |= _variable_ids(trained.model)
    candidates = []
    for obj in gc.get_objects():
        if isinstance(obj, classes) and not any(obj is t.model for t in known):
            updated = _variable_ids(obj) & _UPDATED.keys()
            if updated:
                candidates.append((obj, updated))
    found = []
    for model, updated in sorted(candidates, key=lambda c: -len(c[1])):
        if updated <= covered:
            continue
        covered |= updated
        order = min(_UPDATED[key][1] for key in updated)
        found.append(Trained(framework="keras", model=model, order=order))
    return found
