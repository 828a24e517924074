"""Export the parts of a generative model, each as a graph of its own.

A VAE is scored on its decoder's samples and on reconstructions through its bottleneck,
a GAN on its generator's samples: the clean room needs the halves apart. Which part is
which is decided on the host, from each graph's own inputs and outputs; here every
candidate is exported:

- Keras: the trained model itself (a generator trained in a ``GradientTape`` loop), then
  each model it holds (``self.encoder``, ``self.decoder``, nested
  models). A functional model with several outputs is cut at its first one (a VAE
  encoder's ``z_mean``): the sampling layer after it draws random numbers, which the
  ONNX converter cannot express, and a reconstruction needs only the mean.
- PyTorch: the trained module itself, each child network, and the methods ``encode``
  and ``decode`` where the module has them (the PyTorch example's VAE keeps single
  ``Linear`` layers as children and its halves as methods); a decoder method's latent
  size is read from ``encode``.

Example inputs are public images in the layout the part declares, or zeros of its latent
size (a DCGAN generator's (C, 1, 1) included). Nothing here is scored: the host reads
the graphs as data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .export import export
from .parts import (
    MAX_PARTS,
    keras_held,
    keras_model_class,
    keras_signature,
    torch_signature,
)

Shape = list[int | None]


@dataclass
class Candidate:
    """A part to export: its name, an adapter (``predict``, ``export_onnx``) and an input."""

    name: str
    adapter: Any
    example: np.ndarray


def _example(shape: Shape, images: np.ndarray) -> np.ndarray | None:
    """An input of per-sample ``shape``: the images laid out so, or zeros of a latent size."""
    known = [d for d in shape if d]
    size = math.prod(images.shape[1:])
    if len(shape) == 1 and shape[0] and shape[0] < size // 4:
        return np.zeros((2, shape[0]), np.float32)
    if len(shape) == 3 and shape[0] and shape[0] > 3 and shape[1:] == [None, None]:
        return np.zeros((2, shape[0], 1, 1), np.float32)  # noise as 1x1 channels (DCGAN)
    if None in shape and len(shape) == 3 and shape[0] in (1, 3):  # (C, ?, ?): channels first
        return np.ascontiguousarray(np.moveaxis(
            images.reshape(len(images), *images.shape[1:3], -1), -1, 1), dtype=np.float32)
    if None not in shape and math.prod(known) == size:
        return images.reshape(len(images), *known).astype(np.float32)
    return None


def keras_candidates(model: Any, images: np.ndarray) -> list[Candidate]:
    """``model`` and the models it holds, each cut at its first output."""
    from .keras_model import KerasModel

    found = []
    for name, value in [("", model), *keras_held(model)]:
        inputs, outputs = keras_signature(value)
        if not inputs or not outputs:
            continue
        example = _example(inputs[0], images)
        if example is None:
            continue
        part = value
        if len(outputs) > 1:
            try:
                inputs = value.inputs[0] if len(value.inputs) == 1 else value.inputs
                part = keras_model_class(value)(inputs, value.outputs[0])
                part(example[:1])
            except Exception:  # a subclassed model has no graph to cut
                continue
        found.append(Candidate(name, KerasModel(part), example))
    return found[:MAX_PARTS]


def torch_candidates(torch: Any, module: Any, images: np.ndarray) -> list[Candidate]:
    """``module``, its child networks, and its ``encode`` and ``decode`` methods."""
    from .parts import torch_parts
    from .torch_model import TorchModel

    found = []
    inputs, _ = torch_signature(module)
    own = _example(inputs[0], images) if inputs else None  # what the module itself takes
    if own is not None:
        found.append(Candidate("", TorchModel(torch, module), own))
    children = dict(module.named_children())
    for part in torch_parts(module):
        child = children[part["name"]]
        inputs, _ = torch_signature(child)
        example = _example(inputs[0], images) if inputs else None
        if example is not None:
            found.append(Candidate(part["name"], TorchModel(torch, child), example))
    encode, decode = (getattr(module, n, None) for n in ("encode", "decode"))
    if callable(encode) and own is not None:
        found.append(Candidate("encode", TorchModel(torch, _method(torch, module, "encode")),
                               own))
        if callable(decode):
            try:
                with torch.no_grad():
                    codes = encode(torch.from_numpy(own))
            except Exception:  # the export of ``encode`` will say why
                codes = None
            first = codes[0] if isinstance(codes, tuple | list) else codes
            if first is not None and hasattr(first, "shape"):
                latent = np.zeros((2, int(first.shape[-1])), np.float32)
                found.append(Candidate("decode", TorchModel(
                    torch, _method(torch, module, "decode")), latent))
    return found[:MAX_PARTS]


def _method(torch: Any, module: Any, name: str) -> Any:
    """A module whose forward is ``module.<name>``, so the exporter can trace it."""
    class Method(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.owner = module

        def forward(self, x: Any) -> Any:
            return getattr(self.owner, name)(x)

    return Method()


def export_parts(index: int, candidates: list[Candidate], out_dir: Path,
                 on_error: Callable[[str, str], None]) -> list[dict[str, Any]]:
    """Each candidate as ``graphs/model_<index>_<n>.onnx`` with its reference outputs:
    records ``{name, graph, reference_outputs, graph_error, export_seconds, input}``, where
    ``input`` is the per-sample shape the part was exported with."""
    records = []
    for number, candidate in enumerate(candidates):
        record: dict[str, Any] = {"name": candidate.name, "graph": None, "graph_error": None,
                                  "reference_outputs": None, "export_seconds": None,
                                  "input": [int(d) for d in candidate.example.shape[1:]]}
        export(f"{index}_{number}", candidate.adapter, candidate.example, record, out_dir)
        if record["graph_error"]:
            on_error(candidate.name, record["graph_error"])
        records.append(record)
    return records
