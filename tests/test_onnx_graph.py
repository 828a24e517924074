"""Architecture read from exported ONNX graphs: real exports, and files that are refused."""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from graders.architecture import summarise
from runner.i18n.render import render
from runner.onnx_graph import GraphRefused, load_graph, summarise_graph


def _export(model: nn.Module, example: torch.Tensor, path: Path) -> Path:
    model.eval()
    with warnings.catch_warnings():  # the exporter's deprecation and tracing notices
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(path), input_names=["input"], dynamo=False,
                          dynamic_axes={"input": {0: "batch"}})
    return path


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.body = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(16, 16, 3, padding=1))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        return self.head(torch.relu(x + self.body(x)))


def test_an_alexnet_style_cnn_is_read_with_its_kernels_channels_and_params(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, 10))
    graph = summarise_graph(load_graph(_export(model, torch.randn(2, 1, 28, 28),
                                               tmp_path / "cnn.onnx")))
    architecture = summarise(graph.layers)
    assert render(architecture.describe(), "en") == \
        "CNN 32/64 channels, kernels 5, 3, 2 conv-pool blocks"
    # Batch normalisation is folded into the convolution on export: its scale and shift
    # become the convolution's weights and bias, and its running statistics vanish.
    own = sum(p.numel() for p in model.parameters()) - 2 * 64
    assert graph.params == own and graph.skip_connections == 0
    assert graph.inputs == [[None, 1, 28, 28]]


def test_a_residual_block_is_a_skip_connection_and_an_lstm_a_recurrent_layer(tmp_path):
    residual = summarise_graph(load_graph(_export(Residual(), torch.randn(2, 3, 32, 32),
                                                  tmp_path / "res.onnx")))
    assert residual.skip_connections == 1
    assert summarise(residual.layers).conv_channels == (16, 16, 16)

    class Forecaster(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(1, 32, batch_first=True)
            self.out = nn.Linear(32, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.out(self.lstm(x)[0][:, -1])

    lstm = summarise_graph(load_graph(_export(Forecaster(), torch.randn(2, 12, 1),
                                              tmp_path / "lstm.onnx")))
    assert render(summarise(lstm.layers).describe(), "en") == "RNN: LSTM(32), then 1 dense layer"


def test_files_that_are_not_plain_graphs_are_refused_with_a_reason(tmp_path, monkeypatch):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07" + b"\xff" * 64)
    with pytest.raises(GraphRefused, match="not an ONNX model"):
        load_graph(garbage)

    big = tmp_path / "big.onnx"
    big.write_bytes(b"\0" * 2048)
    monkeypatch.setattr("runner.onnx_graph.MAX_GRAPH_BYTES", 1024)
    with pytest.raises(GraphRefused, match="more than 1024"):
        load_graph(big)

    branch = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "branch", [],
                               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    node = helper.make_node("If", ["c"], ["out"], then_branch=branch, else_branch=branch)
    graph = helper.make_graph(
        [node], "decides", [helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1])])
    control = tmp_path / "control.onnx"
    onnx.save(helper.make_model(graph), control)
    with pytest.raises(GraphRefused, match="control flow"):
        load_graph(control)
