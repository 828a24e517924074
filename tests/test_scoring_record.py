"""What scoring saw is kept and read back whole, with what the grading tasks hold (NumPy
arrays of every kind, messages, measured models), and a tampered file cannot run code."""

from __future__ import annotations

import os
import pickle

import numpy as np

from graders.architecture import Architecture
from graders.context import FunctionResult, GradingContext, ScoredModel
from runner.i18n.message import msg
from runner.measurements import MeasuredModel
from runner.scoring_record import RECORD_FILE, ScoringRecord, read_record, write_record


def _context() -> GradingContext:
    measured = MeasuredModel.model_validate({"index": 0, "framework": "torch",
                                             "class_name": "Net", "names": ["net"],
                                             "params": 10, "layers": []})
    model = ScoredModel(measured=measured, architecture=Architecture("cnn", (16,), (3,), 1, 1),
                        accuracy=0.91,
                        metrics={"accuracy": 0.91, "rmse": np.float64(2.5)},
                        shown=np.zeros((4, 8, 8), dtype=np.uint8),
                        reconstructed=np.ones((2, 28, 28), dtype=np.float32),
                        error_detail=msg("evaluation.none"))
    function = FunctionResult(name="f", arguments=np.linspace(-3, 3, 64),
                              values=np.arange(64, dtype=np.int64), autograd_calls=1)
    return GradingContext(mode="grade", models=[model], functions={"f": function},
                          baselines={"naive": {"rmse": 40.0}})


def test_a_record_round_trips_with_arrays_messages_and_models(tmp_path):
    record = ScoringRecord(_context(), "key", "0.1.0+abc", "grade")
    assert write_record(tmp_path, record) == tmp_path / RECORD_FILE
    again = read_record(tmp_path)
    assert again is not None and again.collected == "key" and again.mode == "grade"
    model = again.context.models[0]
    assert model.metrics == {"accuracy": 0.91, "rmse": 2.5}
    assert model.shown.dtype == np.uint8 and model.reconstructed.shape == (2, 28, 28)
    assert model.measured.class_name == "Net" and model.error_detail.id == "evaluation.none"
    assert np.array_equal(again.context.functions["f"].values, np.arange(64))


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_tampered_record_is_refused_without_running_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / RECORD_FILE).write_bytes(pickle.dumps(_Payload()))
    assert read_record(tmp_path) is None
    assert not (tmp_path / "pwned").exists()
    (tmp_path / RECORD_FILE).write_bytes(b"\x80\x05 not a pickle")
    assert read_record(tmp_path) is None
    assert read_record(tmp_path / "missing") is None
