"""Reading a decoder's outputs as images and reconstructing through the bottleneck, on
models that are plain functions: any layout and activation students end a decoder with
gives the same images on 0..1."""

from __future__ import annotations

import numpy as np
import pytest

from runner.probe.generation import as_images, latent_noise, through_bottleneck

RNG = np.random.default_rng(3)
IMAGES = RNG.uniform(0, 1, (5, 6, 4))  # five 6x4 grey images on 0..1


@pytest.mark.parametrize("emit", [
    lambda x: x,  # a sigmoid, (n, H, W)
    lambda x: x[..., None],  # (n, H, W, 1), Keras
    lambda x: x[:, None],  # (n, 1, H, W), PyTorch
    lambda x: x.reshape(len(x), -1),  # flat, a dense decoder
    lambda x: 2 * x - 1,  # a tanh
    lambda x: 255 * x,  # bytes
])
def test_every_layout_and_activation_gives_the_same_images(emit):
    images = IMAGES.copy()
    images[0, 0, 0], images[0, 0, 1] = 0.0, 1.0  # each scale reaches both its ends
    assert np.allclose(as_images(emit(images), (6, 4)), images)


def test_colour_channels_first_are_moved_last_and_a_wrong_size_is_refused():
    colour = RNG.uniform(0, 1, (2, 6, 4, 3))
    assert np.allclose(as_images(np.moveaxis(colour, -1, 1), (6, 4, 3)), colour)
    with pytest.raises(ValueError, match=r"an image of 6x4x1 needs \(6, 4\)"):
        as_images(np.zeros((2, 5, 5)), (6, 4))


def test_a_decoder_without_an_activation_is_clipped_not_mistaken_for_a_tanh():
    slightly_off = IMAGES * 1.1 - 0.05  # a little below 0 and above 1
    assert np.allclose(as_images(slightly_off, (6, 4)), np.clip(slightly_off, 0, 1))


def test_reconstruction_goes_through_the_mean_not_the_noisy_sample():
    def encode(x):
        mean = x.reshape(len(x), -1)[:, :2]
        return [mean, np.zeros_like(mean), mean + RNG.normal(0, 1, mean.shape)]

    def decode(z):
        return np.repeat(z[:, :1], 24, axis=1)  # an image of the first latent value

    out = through_bottleneck(encode, decode, IMAGES)
    assert np.allclose(out, np.repeat(IMAGES.reshape(5, -1)[:, :1], 24, axis=1))
    with pytest.raises(ValueError, match="a latent vector per input"):
        through_bottleneck(lambda x: x, decode, IMAGES)  # an image is no latent


def test_noise_is_the_seeds_own():
    first, again, other = latent_noise(4, 2, 7), latent_noise(4, 2, 7), latent_noise(4, 2, 8)
    assert first.shape == (4, 2) and first.dtype == np.float32
    assert np.array_equal(first, again) and not np.array_equal(first, other)
