"""A generative model's exported graphs, told apart on the host and run in the clean room.

The probe exports every part without naming one; the host reads each graph and finds
the decoder (a small vector in, an image out) and the encoder of the same latent size.
The clean room then samples the decoder from the host's noise and rebuilds hidden images
through both, whatever scaling the encoder was trained with.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from runner.generation_parts import generative
from runner.measurements import MeasuredModel
from runner.probe.cleanroom import generate, main
from runner.probe.export_parts import export_parts, torch_candidates
from tests.test_export_parts import IMAGES, conv_vae, keras_vae, torch_vae

IMAGE_SIZE = 28 * 28


def _measured(out: Path, candidates) -> MeasuredModel:
    records = export_parts(0, candidates, out, lambda name, error: None)
    return MeasuredModel(index=0, framework="pytorch", class_name="M", params=0, layers=[],
                         graphs=records)


def _images(count: int, seed: int = 0) -> np.ndarray:
    """Blobs of light on dark, as 8-bit 28 x 28 images: something to rebuild."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:28, :28]
    centres = rng.uniform(8, 20, (count, 2))
    blobs = np.exp(-((rows - centres[:, :1, None]) ** 2 + (cols - centres[:, 1:, None]) ** 2)
                   / 20)
    return np.rint(255 * blobs).astype(np.uint8)


def test_the_pytorch_examples_methods_are_its_encoder_and_decoder(tmp_path):
    import torch

    model = _measured(tmp_path, torch_candidates(torch, torch_vae().eval(), IMAGES))
    found = generative(tmp_path, model, IMAGE_SIZE)
    assert (found.decoder.name, found.decoder.latent) == ("decode", 4)
    assert (found.encoder.name, found.encoder.role, found.encoder.input) == (
        "encode", "vae_encoder", (784,))
    assert {p.name: p.role for p in found.parts}[""] is None  # the whole VAE: image in,
    # an image and two vectors out, no one role


def test_the_keras_examples_encoder_cut_at_its_mean_pairs_with_its_decoder(tmp_path):
    from runner.probe.export_parts import keras_candidates

    model = _measured(tmp_path, keras_candidates(keras_vae(), IMAGES))
    found = generative(tmp_path, model, IMAGE_SIZE)
    assert (found.decoder.name, found.encoder.name, found.encoder.role) == (
        "decoder", "encoder", "encoder")
    assert found.encoder.input == (28, 28, 1) and found.decoder.latent == 2


def test_a_network_that_copies_its_input_is_no_encoder_and_gives_no_decoder(tmp_path):
    import torch
    from torch import nn

    copier = nn.Sequential(nn.Flatten(), nn.Linear(784, 784), nn.Linear(784, 784)).eval()
    found = generative(tmp_path, _measured(tmp_path, torch_candidates(torch, copier, IMAGES)),
                       IMAGE_SIZE)
    assert found.decoder is None and found.encoder is None
    assert [p.role for p in found.parts] == ["image_to_image"]


def _pca_autoencoder(torch, scale: float, shift: float, images: np.ndarray):
    """An autoencoder for inputs scaled as ``x * scale + shift`` (x on 0..255): the
    encoder projects onto the images' first 8 principal components, the decoder maps back
    to 0..1. Built, not trained: torch's optimizers crash a process that has TensorFlow."""
    from torch import nn

    pixels = images.reshape(len(images), -1) / 255.0
    mean = pixels.mean(axis=0)
    basis = np.linalg.svd(pixels - mean, full_matrices=False)[2][:8].T  # (784, 8)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.Linear(8, 8))
    decoder = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 784))
    with torch.no_grad():
        encoder[1].weight.copy_(torch.from_numpy(basis.T / (scale * 255)))
        encoder[1].bias.copy_(torch.from_numpy(-basis.T @ (shift / (scale * 255) + mean)))
        decoder[1].weight.copy_(torch.from_numpy(basis))
        decoder[1].bias.copy_(torch.from_numpy(mean))
        for same in (encoder[2], decoder[0]):  # a network of its own has two weight layers
            same.weight.copy_(torch.eye(8))
            same.bias.zero_()

    class AutoEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = encoder, decoder

        def forward(self, x):
            return self.decoder(self.encoder(x))

    return AutoEncoder().float().eval(), mean, basis


@pytest.mark.parametrize("scale, shift", [(1 / 255, 0.0), (2 / 255, -1.0)])
def test_the_clean_room_samples_the_decoder_and_rebuilds_through_the_encoder(
        tmp_path, scale, shift):
    import torch

    autoencoder, mean, basis = _pca_autoencoder(torch, scale, shift, _images(2000, seed=1))
    model = _measured(tmp_path, torch_candidates(torch, autoencoder,
                                                 _images(4) / np.float32(255)))
    found = generative(tmp_path, model, IMAGE_SIZE)
    assert (found.decoder.name, found.encoder.name) == ("decoder", "encoder")
    hidden = _images(300, seed=2)
    entry = {"index": 0, **{role: {"graph": str(tmp_path / part.graph),
                                   "input": list(part.input)}
                            for role, part in (("decoder", found.decoder),
                                               ("encoder", found.encoder))}}
    plan = {"image_shape": [28, 28], "samples": 100, "seed": 7, "reconstructed": 250}
    inputs = {"calibration_inputs": _images(200, seed=3), "hidden_images": hidden}
    record = generate(entry, inputs, plan, tmp_path)
    assert record["error"] is None
    samples = np.load(tmp_path / record["samples"])
    assert samples.shape == (100, 28, 28) and samples.dtype == np.uint8
    again = generate(entry, inputs, plan, tmp_path / "again")
    assert np.array_equal(np.load(tmp_path / "again" / again["samples"]), samples)
    rebuilt = np.load(tmp_path / record["reconstructions"]).astype(np.float64) / 255
    assert rebuilt.shape == (250, 28, 28)
    pixels = hidden[:250].reshape(250, -1) / 255.0
    expected = np.clip((pixels - mean) @ basis @ basis.T + mean, 0, 1).reshape(250, 28, 28)
    assert np.abs(rebuilt - expected).max() <= 1 / 255 + 1e-6  # fed as it was built for


def test_the_clean_room_writes_why_a_decoder_failed_and_goes_on(tmp_path):
    import torch

    good = _measured(tmp_path, torch_candidates(torch, torch_vae().eval(), IMAGES))
    found = generative(tmp_path, good, IMAGE_SIZE)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a graph")
    decoder = {"graph": str(tmp_path / found.decoder.graph), "input": [4]}
    job = {"out_dir": str(tmp_path / "out"), "inputs": {},
           "generation": {"image_shape": [28, 28], "samples": 100, "seed": 1,
                          "reconstructed": 10},
           "models": [{"index": 0, "decoder": {"graph": str(broken), "input": [4]}},
                      {"index": 1, "decoder": decoder}]}
    (tmp_path / "job.json").write_text(json.dumps(job))
    main(str(tmp_path / "job.json"))
    first, second = json.loads((tmp_path / "out" / "cleanroom.json").read_text())["models"]
    assert first["samples"] is None and first["error"]
    assert second["error"] is None and second["samples"] == "cleanroom/model_1_samples.npy"


def test_of_two_decoders_the_one_that_returns_an_image_is_sampled(tmp_path):
    """The decoder's first layers (a latent in, 64 x 7 x 7 features out) are a decoder by
    their shapes, but the ``decode`` method is the one that returns the image."""
    import torch

    model = _measured(tmp_path, torch_candidates(torch, conv_vae().eval(), IMAGES))
    found = generative(tmp_path, model, IMAGE_SIZE)
    assert "dec_fc" in {p.name for p in found.parts if p.role == "decoder"}
    assert found.decoder.name == "decode"  # its size left free by the traced reshape
    assert found.encoder.name == "encode"


def test_a_layout_the_kernel_claims_is_used_only_where_the_graph_agrees(tmp_path):
    """The exported-with layout is written in the student's kernel: a forged one (a huge
    latent, a wrong image size) falls back to the graph's own input, or to no part."""
    import torch

    model = _measured(tmp_path, torch_candidates(torch, torch_vae().eval(), IMAGES))
    honest = generative(tmp_path, model, IMAGE_SIZE)
    forged = model.model_copy(update={"graphs": [
        graph.model_copy(update={"input": [100000, 100000] if graph.name == "decode"
                                 else [27, 27] if graph.name == "encode" else graph.input})
        for graph in model.graphs]})
    found = generative(tmp_path, forged, IMAGE_SIZE)
    assert found.decoder.input == honest.decoder.input == (4,)  # the graph's own
    assert found.encoder.input == honest.encoder.input == (784,)
