"""The clean room forecasts with an exported graph exactly as the kernel's probe did.

A forecast is fed back into the model step by step, through the window, the scaling
and the differencing the probe chose in the student's kernel; the clean room rebuilds
that loop from the recorded format alone. Checked here on a small exported network
against the same loop run on the PyTorch model itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runner.measurements import InputFormat
from runner.probe import forecast
from runner.probe.cleanroom import evaluate

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the exporter chosen


def _window_model(path: Path, length: int) -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(length, 8), torch.nn.Tanh(),
                                torch.nn.Linear(8, 1)).eval()
    torch.onnx.export(model, (torch.zeros(2, length, 1),), str(path), dynamo=False,
                      input_names=["x"], dynamic_axes={"x": {0: "n"}})
    return model


@pytest.mark.parametrize("lag", [0, 1, 12])
def test_the_graphs_closed_loop_forecast_is_the_models_own(tmp_path, lag):
    history = 100 + 50 * np.sin(np.arange(120) / 12 * 2 * np.pi) + np.arange(120)
    model = _window_model(tmp_path / "model.onnx", 6)
    fmt = forecast.SeriesFormat(forecast.Window(6, (6, 1), True),
                                forecast.Scaling(0.01, -1.0, "calibrated", lag), 0.0)
    recorded = InputFormat.model_validate(fmt.as_json())  # what the host reads and passes on
    assert recorded.lag == lag

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(batch.astype(np.float32))).numpy()

    expected = forecast.closed_loop(predict, history, 24, fmt)
    record = evaluate({"index": 3, "graph": str(tmp_path / "model.onnx"),
                       "input": recorded.model_dump()}, {"history": history}, tmp_path, 24)
    assert record["error"] is None
    got = np.load(tmp_path / record["predictions"])
    assert got.shape == (24,)
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    reference = np.load(tmp_path / record["reference_outputs"])
    windows = forecast.calibration_windows(history, fmt)
    np.testing.assert_allclose(reference, predict(windows), rtol=1e-4, atol=1e-6)


def test_a_window_of_another_shape_is_refused_with_the_shape(tmp_path):
    _window_model(tmp_path / "model.onnx", 6)
    record = evaluate({"index": 0, "graph": str(tmp_path / "model.onnx"),
                       "input": {"shape": [6, 2], "scale": 1.0, "shift": 0.0}},
                      {"history": np.arange(50.0)}, tmp_path, 12)
    assert record["predictions"] is None
    assert "(W,), (W, 1) or (1, W), not [6, 2]" in record["error"]
