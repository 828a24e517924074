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


def draw(spec: DatasetSpec, count: int,
         seed: int | np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points ``(inputs, targets)`` of the generator, reproducible from ``seed``."""
    if spec.generator is None:
        raise ValueError(f"dataset {spec.name!r} has no generator")
    module_name, function_name = spec.generator.function.rsplit(".", 1)
    if module_name not in GENERATOR_MODULES:  # the dataset file was validated; be sure anyway
        raise DatasetError(f"generator module {module_name!r} is not allowed")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise DatasetError(f"dataset {spec.name!r}: cannot use {spec.generator.function}: "
                           f"{error}", hint="Install scikit-learn (./setup.sh does).") from None
    inputs, targets = function(n_samples=count, random_state=seed, **spec.generator.params)
    inputs = np.asarray(inputs, dtype=spec.sample.dtype)
    targets = np.asarray(targets).astype(np.int64)
    if inputs.shape[1:] != spec.sample.shape or targets.shape != (len(inputs),):
        raise DatasetError(f"dataset {spec.name!r}: {spec.generator.function} gave inputs "
                           f"{list(inputs.shape)} and targets {list(targets.shape)}, not "
                           f"[{count}, {', '.join(map(str, spec.sample.shape))}] and [{count}]")
    return inputs, targets
