"""Which exported graph of a generative model is its decoder, and which its encoder.

The probe exports a trained model and every part of it apart (runner/probe/
export_parts.py) without saying what each is. Here the host reads each graph as data
and tells its role from what goes in and out of the graph itself (graders/roles.py):
a decoder takes a small vector and returns an image; an encoder takes an image and
returns vectors of the decoder's latent size. A graph the host refuses plays no role.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from graders.roles import role_of
from runner.measurements import MeasuredModel
from runner.onnx_graph import GraphRefused, read_exported

ENCODER_ROLES = ("vae_encoder", "encoder")


@dataclass(frozen=True)
class GraphPart:
    """One exported part, with the role its graph plays."""

    name: str  # "" for the trained model itself
    graph: str  # relative to the first sandbox's output folder
    role: str | None
    latent: int | None
    input: tuple[int, ...]  # the per-sample layout it was exported with
    output: tuple[int | None, ...] = ()  # its first output's per-sample shape


@dataclass(frozen=True)
class Generative:
    """A model's decoder and, where it has one of the same latent size, its encoder."""

    decoder: GraphPart | None
    encoder: GraphPart | None
    parts: tuple[GraphPart, ...]
    error: str | None = None  # why the probe exported no part at all


def graph_parts(out: Path, model: MeasuredModel, image_size: int) -> list[GraphPart]:
    """The model's exported parts whose graphs the host reads, each with its role.

    No part is read as a classifier: an encoder of ten numbers is an encoder here."""
    found = []
    for part in model.graphs:
        if part.graph is None:
            continue
        try:
            summary = read_exported(out, part.graph)
        except GraphRefused:
            continue
        inputs = [shape[1:] for shape in summary.inputs]
        outputs = [shape[1:] for shape in summary.outputs]
        role, latent = role_of(inputs, outputs, image_size)
        layout = _layout(part.input, inputs[0] if inputs else [],
                         latent if role == "decoder" else image_size)
        found.append(GraphPart(part.name, part.graph, role, latent, layout,
                               tuple(outputs[0]) if outputs else ()))
    return found


def _layout(claimed: list[int | None], graph: list[int | None], size: int | None
            ) -> tuple[int, ...]:
    """How to lay out a part's input: the layout the probe exported it with (written in the
    student's kernel, so only a hint) when it holds ``size`` values and agrees with every
    size the graph fixes; else the graph's own, when it fixes them all; else nothing."""
    def fits(shape: list[int | None]) -> bool:
        return (bool(shape) and all(d is not None and d > 0 for d in shape)
                and math.prod(d for d in shape if d) == size)

    if fits(claimed) and len(claimed) == len(graph) and all(
            g is None or g == c for g, c in zip(graph, claimed, strict=True)):
        return tuple(int(d) for d in claimed if d)
    return tuple(int(d) for d in graph if d) if fits(graph) else ()


def _fit(part: GraphPart, image_size: int) -> int:
    """0 when its output holds exactly one image's values, 1 when the graph does not say
    (a traced reshape leaves sizes free), 2 when it holds some other number (a decoder's
    first layers, ending in thousands of features)."""
    known = [d for d in part.output if d]
    if part.output and len(known) == len(part.output):
        return 0 if math.prod(known) == image_size else 2
    return 1


def generative(out: Path, model: MeasuredModel, image_size: int) -> Generative:
    """The model's first decoder that returns one image's values (else one that may), and
    the first encoder whose latent size is the decoder's."""
    parts = graph_parts(out, model, image_size)
    decoders = [p for p in parts if p.role == "decoder" and p.input]
    decoder = min(decoders, key=lambda p: _fit(p, image_size)) if decoders else None
    encoder = None if decoder is None else next(
        (p for p in parts if p.role in ENCODER_ROLES and p.latent == decoder.latent
         and p.input), None)
    return Generative(decoder, encoder, tuple(parts), model.graph_error)
