"""Datasets drawn from a generator function: fresh samples instead of files.

The dataset file names a ``make_*`` function of an allow-listed module
(scikit-learn's ``sklearn.datasets``, nngrade's own ``runner.datasets.synthetic``) and
its parameters; a sample is the function's ``(inputs, targets)`` for a number of points
and a seed. Targets are a class per input, or for segmentation a mask per image.
"""

from __future__ import annotations

import importlib

import numpy as np

from runner.datasets.errors import DatasetError
from runner.datasets.registry import GENERATOR_MODULES, DatasetSpec, Task
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
    target_shape = (count, *target_sample_shape(spec))
    if inputs.shape[1:] != spec.sample.shape or targets.shape != target_shape:
        raise DatasetError(msg(
            "error.generator.shape", name=spec.name, function=spec.generator.function,
            inputs=str(list(inputs.shape)), targets=str(list(targets.shape)),
            want_inputs=str([count, *spec.sample.shape]), want_targets=str(list(target_shape))))
    return inputs, targets


def target_sample_shape(spec: DatasetSpec) -> tuple[int, ...]:
    """What one target is: nothing but a class id, or a mask of the image's height and width."""
    return tuple(spec.sample.shape[:2]) if spec.task is Task.segmentation else ()
