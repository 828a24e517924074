"""What a trained model, or a model inside it, is for: told from what goes in and out.

The probe records shapes, never roles (runner/probe/parts.py): a role decided in the
student's kernel could be forged there. Here, with the size of the task's images:

- ``classifier``: an image in, one score per class out;
- ``discriminator``: an image in, one number out (a GAN's critic);
- ``vae_encoder``: an image in, two or more vectors of one size out (mean, log-variance,
  and often the sample ``z``), the Keras example's encoder;
- ``encoder``: an image in, small vectors out;
- ``decoder``: a small vector in, an image out (a VAE's decoder, a GAN's generator);
- ``image_to_image``: an image in, an image out (a U-Net's masks, an autoencoder).

An image is a tensor of at least half the task's image size, or any tensor with two or
more free dimensions (a fully convolutional network); a vector at most a quarter of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from runner.measurements import MeasuredModel, ModelPart

Shape = Sequence[int | None]
Role = Literal["classifier", "discriminator", "vae_encoder", "encoder", "decoder",
               "image_to_image"]
ROLES: tuple[str, ...] = get_args(Role)


@dataclass(frozen=True)
class Part:
    """A trained model or a model inside it, with its role (None: none of the above)."""

    name: str  # "" for the trained model itself
    class_name: str
    role: str | None
    params: int
    latent: int | None = None  # a decoder's input size, an encoder's output size


def _known(shape: Shape) -> int:
    return math.prod(d for d in shape if d)


def _is_image(shape: Shape, image_size: int) -> bool:
    if sum(d is None for d in shape) >= 2:
        return True
    return _known(shape) * 2 >= image_size and (len(shape) > 1 or image_size > 1)


def _is_vector(shape: Shape, image_size: int) -> bool:
    return None not in shape and 0 < _known(shape) * 4 <= image_size


def role_of(inputs: Sequence[Shape], outputs: Sequence[Shape], image_size: int,
            num_classes: int | None = None) -> tuple[str | None, int | None]:
    """The role and the latent size of a model that takes ``inputs`` and returns
    ``outputs`` (per-sample shapes), for a task whose images hold ``image_size`` values."""
    if not inputs or not outputs:
        return None, None
    first = inputs[0]
    if _is_image(first, image_size):
        if all(_is_image(out, image_size) for out in outputs):
            return "image_to_image", None
        if not all(_is_vector(out, image_size) for out in outputs):
            return None, None
        sizes = [_known(out) for out in outputs]
        if sizes == [1]:
            return "discriminator", None
        if len(sizes) >= 2 and len(set(sizes[:2])) == 1:
            return "vae_encoder", sizes[0]
        if len(sizes) == 1 and num_classes and sizes[0] == num_classes:
            return "classifier", None
        return "encoder", sizes[0]
    if _is_vector(first, image_size) and any(_is_image(out, image_size) for out in outputs):
        return "decoder", _known(first)
    return None, None


def parts_of(model: MeasuredModel, image_size: int, num_classes: int | None = None
             ) -> list[Part]:
    """The trained model itself, then the models inside it, each with its role."""
    def part(name: str, whole: MeasuredModel | ModelPart) -> Part:
        role, latent = role_of(whole.inputs, whole.outputs, image_size, num_classes)
        return Part(name, whole.class_name, role, whole.params, latent)

    return [part("", model), *(part(p.name, p) for p in model.parts)]
