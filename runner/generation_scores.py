"""Score what a generative model's graphs produced in the clean room, on the host.

The clean room wrote 8-bit images: samples of the host's noise and, where the model has
an encoder, hidden images rebuilt through it. They are read as untrusted arrays and
judged with nngrade's own instruments (runner/instruments/): the Fréchet distance to
hidden images and the class coverage in the yardstick network's eyes, the share of
samples that copy a public training image, and the reconstruction error.

A generator most of whose samples are copies is not credited with their quality: its
Fréchet distance and coverage are left out, and its error says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from graders.roles import Part
from runner.cleanroom import CleanModel, CleanRoom
from runner.generation_parts import Generative, GraphPart
from runner.i18n.message import Message, msg
from runner.instruments.feature_network import FeatureNetwork, unit_scale
from runner.instruments.sample_quality import judge_samples
from runner.measurements import load_array
from runner.metrics import rmse
from runner.provision import RECONSTRUCTED, GenerationTruth

COPIES_ALLOWED = 0.1
"""Above this share of copied samples a generator's sample quality is not scored; a
generator that learned the data copies none (measured: README)."""


@dataclass
class Yardstick:
    """The yardstick network and the features of the hidden images, computed once per run."""

    network: FeatureNetwork
    reference: np.ndarray


def yardstick(network: FeatureNetwork, truth: GenerationTruth) -> Yardstick:
    return Yardstick(network, network.features(truth.hidden[:truth.samples]))


@dataclass
class GenerationScore:
    """Metrics of one model's outputs, the images a report shows, and what went wrong."""

    metrics: dict[str, float] = field(default_factory=dict)
    samples: np.ndarray | None = None  # the first samples, 0..255
    reconstructions: np.ndarray | None = None  # the first hidden images rebuilt, 0..255
    error: Message | None = None
    parts: tuple[Part, ...] = ()  # the roles of its exported graphs


SHOWN = 16


def _images(out: Path, relative: str, count: int, shape: tuple[int, ...]) -> np.ndarray:
    """``count`` 8-bit images of ``shape`` the clean room wrote at ``relative``."""
    images = load_array(out, relative, max_items=count * int(np.prod(shape)))
    if images.dtype != np.uint8 or images.shape != (count, *shape):
        raise ValueError(f"{relative}: {images.dtype} {list(images.shape)}, not {count} "
                         f"8-bit images of {list(shape)}")
    return images


def score_generation(out: Path, cleaned: CleanModel, truth: GenerationTruth,
                     stick: Yardstick) -> GenerationScore:
    """Metrics of what ``cleaned`` wrote into ``out``: ``frechet``, ``coverage``,
    ``memorised`` and, with an encoder, ``reconstruction_rmse``."""
    score = GenerationScore()
    shape = tuple(truth.image_shape)
    if cleaned.samples is None:
        score.error = msg("model.error.clean_room_failed",
                          error=cleaned.error or msg("model.error.no_clean_room_result"))
        return score
    try:
        samples = _images(out, cleaned.samples, truth.samples, shape)
        rebuilt = (None if cleaned.reconstructions is None else _images(
            out, cleaned.reconstructions, min(len(truth.hidden), RECONSTRUCTED), shape))
    except (OSError, ValueError) as problem:
        score.error = msg("model.error.unreadable", error=str(problem))
        return score
    quality = judge_samples(stick.network, samples, stick.reference, truth.training)
    score.samples = samples[:SHOWN]
    score.metrics["memorised"] = quality.memorised
    if quality.memorised > COPIES_ALLOWED:
        score.error = msg("model.error.memorised", share=quality.memorised)
    else:
        score.metrics.update(frechet=quality.frechet, coverage=quality.coverage)
    if rebuilt is not None:
        score.metrics["reconstruction_rmse"] = rmse(unit_scale(rebuilt),
                                                    unit_scale(truth.hidden[:len(rebuilt)]))
        score.reconstructions = rebuilt[:SHOWN]
    return score


def score_models(clean: CleanRoom, found: dict[int, Generative], truth: GenerationTruth,
                 network: FeatureNetwork) -> dict[int, GenerationScore]:
    """Each model's score, by index: a model without a decoder graph gets only why."""
    stick: Yardstick | None = None
    scores = {}
    for index, parts in found.items():
        roles = tuple(Part(p.name, "", p.role, 0, p.latent) for p in parts.parts)
        if parts.decoder is None:
            error = (msg("model.error.parts_not_exported", error=parts.error)
                     if parts.error and not parts.parts else msg(
                         "model.error.no_decoder",
                         parts=[_part_words(part) for part in parts.parts] or msg("note.none")))
            scores[index] = GenerationScore(error=error, parts=roles)
            continue
        cleaned = clean.models.get(index)
        if cleaned is None or clean.out is None:
            scores[index] = GenerationScore(error=msg(
                "model.error.clean_room_failed", error=msg("model.error.no_clean_room_result")),
                parts=roles)
            continue
        stick = stick or yardstick(network, truth)
        scores[index] = score_generation(clean.out, cleaned, truth, stick)
        scores[index].parts = roles
    return scores


def _part_words(part: GraphPart) -> Message:
    role = msg(f"role.{part.role}") if part.role else msg("role.none")
    return msg("model.part", name=part.name or "-", role=role)
