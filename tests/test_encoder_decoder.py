"""Encoder–decoders are told from classifiers, and a U-Net from a plain autoencoder by its
skip connections: in the layers the student's kernel describes and in the exported graph
the clean room reads, alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from graders.architecture import Architecture, summarise
from graders.context import ScoredModel
from graders.selection import Selection, matches
from runner.i18n.render import render
from runner.measurements import Layer, MeasuredModel
from runner.onnx_graph import read_exported
from runner.probe.torch_layers import traced_layers
from runner.probe.torch_model import TorchModel


class TinyUNet(nn.Module):
    """Two levels, one skip: the decoder sees the encoder's full-size features again."""

    def __init__(self, skip: bool = True):
        super().__init__()
        self.skip = skip
        self.enc1, self.enc2 = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.dec = nn.Conv2d(16 if skip else 8, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        e1 = F.relu(self.enc1(x))
        e2 = F.relu(self.enc2(F.max_pool2d(e1, 2)))
        u = self.up(e2)
        return self.head(F.relu(self.dec(torch.cat([u, e1], 1) if self.skip else u)))


class Interpolating(nn.Module):
    """An autoencoder that strides down and interpolates up, with no layer for either."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.out = nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, x):
        return self.out(F.interpolate(F.relu(self.down(x)), scale_factor=2))


CLASSIFIER = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                           nn.Linear(8 * 13 * 13, 10))
SAMPLE = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)


def _kernel(model: nn.Module) -> Architecture:
    """What the probe in the student's kernel would describe."""
    records = traced_layers(torch, model, torch.from_numpy(SAMPLE))
    return summarise([Layer.model_validate(record) for record in records])


def _graph(model: nn.Module, tmp_path: Path) -> Architecture:
    """What the host reads from the exported graph the clean room runs."""
    TorchModel(torch, model).export_onnx(tmp_path / "model.onnx", SAMPLE)
    return summarise(read_exported(tmp_path, "model.onnx").layers)


def _is(arch: Architecture, models: str) -> bool:
    measured = MeasuredModel(index=0, framework="pytorch", class_name="Net", params=1,
                             layers=[])
    return matches(ScoredModel(measured, arch, None), Selection(models=models))


@pytest.mark.parametrize("source", ["kernel", "graph"])
def test_a_unet_is_an_encoder_decoder_with_a_skip_connection(source, tmp_path):
    model = TinyUNet()
    arch = _kernel(model) if source == "kernel" else _graph(model, tmp_path)
    assert (arch.kind, arch.downsamplings, arch.upsamplings, arch.skip_connections) == (
        "encoder_decoder", 1, 1, 1)
    assert _is(arch, "unet") and _is(arch, "encoder_decoder") and not _is(arch, "cnn")


@pytest.mark.parametrize("source", ["kernel", "graph"])
def test_an_autoencoder_without_skips_is_no_unet(source, tmp_path):
    for model in (TinyUNet(skip=False), Interpolating()):
        arch = _kernel(model) if source == "kernel" else _graph(model, tmp_path)
        assert (arch.kind, arch.skip_connections) == ("encoder_decoder", 0), model
        assert _is(arch, "encoder_decoder") and not _is(arch, "unet")


@pytest.mark.parametrize("source", ["kernel", "graph"])
def test_a_classifier_stays_a_cnn(source, tmp_path):
    arch = _kernel(CLASSIFIER) if source == "kernel" else _graph(CLASSIFIER, tmp_path)
    assert (arch.kind, arch.upsamplings, arch.skip_connections) == ("cnn", 0, 0)
    assert not _is(arch, "encoder_decoder") and not _is(arch, "unet")


def test_an_encoder_decoder_in_words():
    arch = _kernel(TinyUNet())
    assert render(arch.describe(), "en") == (
        "encoder–decoder: 1 downsampling, 1 upsampling, 1 skip connection; "
        "conv channels 8/16/8/2")
    assert render(arch.describe(), "ru") == (
        "кодировщик–декодировщик: 1 понижение разрешения, 1 повышение разрешения, "
        "1 skip-соединение; каналы свёрток 8/16/8/2")
    assert render(Selection(models="unet").describe(), "ru").startswith("сеть вида U-Net")


@pytest.mark.slow
def test_a_functional_keras_unet_as_students_write_it(tmp_path):
    """``Concatenate`` skips and ``Conv2DTranspose``/``UpSampling2D`` on the way up."""
    keras = pytest.importorskip("keras")
    from runner.probe.keras_model import KerasModel

    inputs = keras.Input((28, 28, 1))
    c1 = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    c2 = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(
        keras.layers.MaxPooling2D()(c1))
    c3 = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(
        keras.layers.MaxPooling2D()(c2))
    u2 = keras.layers.Concatenate()([keras.layers.Conv2DTranspose(16, 2, strides=2)(c3), c2])
    u1 = keras.layers.Concatenate()([keras.layers.UpSampling2D()(u2), c1])
    outputs = keras.layers.Conv2D(2, 1, activation="softmax")(u1)
    adapter = KerasModel(keras.Model(inputs, outputs))
    sample = SAMPLE.transpose(0, 2, 3, 1)
    kernel = summarise([Layer.model_validate(r) for r in adapter.layers(sample)])
    adapter.export_onnx(tmp_path / "unet.onnx", sample)
    graph = summarise(read_exported(tmp_path, "unet.onnx").layers)
    for arch in (kernel, graph):
        assert (arch.kind, arch.downsamplings, arch.upsamplings, arch.skip_connections) == (
            "encoder_decoder", 2, 2, 2), arch
        assert _is(arch, "unet")
