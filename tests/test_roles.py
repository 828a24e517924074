"""Roles from shapes: what a student's models are for, decided on the host."""

from __future__ import annotations

import pytest

from graders.roles import parts_of, role_of
from runner.measurements import MeasuredModel, ModelPart

IMAGE = 784  # Fashion-MNIST: 28 x 28 x 1


@pytest.mark.parametrize(("inputs", "outputs", "expected"), [
    ([[28, 28, 1]], [[10]], ("classifier", None)),
    ([[784]], [[1]], ("discriminator", None)),
    ([[28, 28, 1]], [[2], [2], [2]], ("vae_encoder", 2)),  # z_mean, z_log_var, z
    ([[1, 28, 28]], [[32]], ("encoder", 32)),
    ([[2]], [[28, 28, 1]], ("decoder", 2)),
    ([[100]], [[784]], ("decoder", 100)),  # a dense GAN generator
    ([[None, None, 3]], [[None, None, 2]], ("image_to_image", None)),  # fully convolutional
    ([[28, 28, 1]], [[28, 28, 1]], ("image_to_image", None)),
    ([[12, 1]], [[1]], (None, None)),  # a forecaster's window is no image
    ([], [[10]], (None, None)),
])
def test_the_role_follows_from_what_goes_in_and_out(inputs, outputs, expected):
    assert role_of(inputs, outputs, IMAGE, num_classes=10) == expected


def test_a_vae_subclass_is_known_by_its_encoder_and_decoder():
    """The Keras example's VAE has no ``call`` of its own: no shapes, but two parts."""
    vae = MeasuredModel(
        index=0, framework="keras", class_name="VAE", params=100, layers=[], parts=[
            ModelPart(name="encoder", class_name="Functional", params=60,
                      inputs=[[28, 28, 1]], outputs=[[2], [2], [2]]),
            ModelPart(name="decoder", class_name="Functional", params=40,
                      inputs=[[2]], outputs=[[28, 28, 1]])])
    assert [(p.name, p.role, p.latent) for p in parts_of(vae, IMAGE)] == [
        ("", None, None), ("encoder", "vae_encoder", 2), ("decoder", "decoder", 2)]
