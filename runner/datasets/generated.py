"""Datasets drawn from a generator function: fresh samples instead of files.

The dataset file names a ``make_*`` function of an allow-listed library module
(scikit-learn's ``sklearn.datasets``) and its parameters; a sample is the
function's ``(inputs, targets)`` for a number of points and a seed.
"""

from __future__ import annotations

import importlib

import numpy as np

from runner.datasets.errors import DatasetError
from runner.datasets.registry import GENERATOR_MODULES, DatasetSpec
from runner.i18n.message import msg


def draw(spec: DatasetSpec, count: int,
         seed: int | np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points ``(inputs, targets)`` of the generator, reproducible from ``seed``."""
    if spec.generator is None:
        raise ValueError(f"dataset {spec.name!r} has no generator")
    module_name, function_name = spec.generator.function.rsplit(".", 1)
    if module_name not in GENERATOR_MODULES:  # the dataset file was validated; be sure anyway
        raise DatasetError(msg("error.generator.module", module=module_name))
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise DatasetError(msg("error.generator.import", name=spec.name,
                               function=spec.generator.function, error=str(error)),
                           hint=msg("error.generator.import.hint")) from None
    inputs, targets = function(n_samples=count, random_state=seed, **spec.generator.params)
    inputs = np.asarray(inputs, dtype=spec.sample.dtype)
    targets = np.asarray(targets).astype(np.int64)
    if inputs.shape[1:] != spec.sample.shape or targets.shape != (len(inputs),):
        raise DatasetError(msg(
            "error.generator.shape", name=spec.name, function=spec.generator.function,
            inputs=str(list(inputs.shape)), targets=str(list(targets.shape)),
            want_inputs=str([count, *spec.sample.shape]), want_targets=str([count])))
    return inputs, targets
