"""The probe's closed-loop forecasting, on models that are plain functions of their window."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler

from runner.i18n.render import render
from runner.input_words import describe_input
from runner.measurements import InputFormat
from runner.probe.forecast import choose, closed_loop, fitted_scalers
from runner.probe.state import InputStats

MONTHS = np.arange(144)
SERIES = 100 + 2.0 * MONTHS + 10 * np.sin(2 * np.pi * MONTHS / 12)
HISTORY, FUTURE = SERIES[:120], SERIES[120:]


def persistence(batch: np.ndarray) -> np.ndarray:
    """Predicts the newest value of its window, whatever the layout: (n, W, 1) or (n, 1, W)."""
    return batch.reshape(len(batch), -1)[:, -1:]


def _trained_on(rows: np.ndarray, window: int) -> InputStats:
    """Statistics as the probe records them for a model trained on windows of ``rows``."""
    windows = np.lib.stride_tricks.sliding_window_view(rows, window)
    return InputStats(shape=(window, 1), mean=float(windows.mean()), std=float(windows.std()),
                      rows=windows[:32])


def test_a_model_of_seasonal_differences_is_found_and_forecasts_the_trend():
    """y - y[t-12] is constant here: persistence on those differences is a perfect model."""
    stats = _trained_on(HISTORY[12:] - HISTORY[:-12], 12)
    fmt = choose(persistence, HISTORY, 24, stats, None, [], period=12)
    assert fmt.scaling.lag == 12 and fmt.window.shape == (12, 1)
    assert fmt.one_step_rmse == pytest.approx(0, abs=1e-6)
    assert np.allclose(closed_loop(persistence, HISTORY, 24, fmt), FUTURE)
    recorded = InputFormat.model_validate(fmt.as_json())
    assert recorded.lag == 12 and recorded.window == 12
    assert render(describe_input(recorded), "en").endswith(
        "differences to the value 12 steps earlier")
    assert "window 12" in render(describe_input(recorded), "en")
    assert render(describe_input(recorded), "ru").endswith(
        "разности со значением на 12 шагов раньше")


def test_a_model_of_values_is_not_credited_with_a_differencing_it_never_saw():
    """Persistence on seasonal differences would forecast this series perfectly; the
    model was trained on min-max scaled values, and is measured as such."""
    scaled = (HISTORY - HISTORY.min()) / np.ptp(HISTORY)
    fmt = choose(persistence, HISTORY, 24, _trained_on(scaled, 12), None, [], period=12)
    assert fmt.scaling.lag == 0 and fmt.scaling.scale == pytest.approx(1 / np.ptp(HISTORY))
    forecast = closed_loop(persistence, HISTORY, 24, fmt)
    assert np.allclose(forecast, HISTORY[-1])  # what persistence on values does


def test_the_recorded_layout_and_the_notebooks_scaler_are_used():
    scaler = MinMaxScaler().fit(HISTORY.reshape(-1, 1))

    def knows_the_series_in_its_scalers_units(batch: np.ndarray) -> np.ndarray:
        """Right only when fed windows (n, 1, 6) of values scaled by ``scaler``."""
        if batch.shape[1:] != (1, 6):
            raise ValueError("expected (n, 1, 6)")
        raw = scaler.inverse_transform(batch[:, 0, :].reshape(-1, 1)).reshape(len(batch), 6)
        out = np.zeros((len(batch), 1))
        for row, window in enumerate(raw):
            for start in range(len(SERIES) - 6):
                if np.allclose(SERIES[start:start + 6], window, atol=1e-2):
                    out[row, 0] = scaler.transform([[SERIES[start + 6]]])[0, 0]
                    break
        return out

    found = fitted_scalers({"scaler": scaler, "_hidden": scaler, "x": 3})
    assert [s.source for s in found] == ["scaler scaler"]
    fmt = choose(knows_the_series_in_its_scalers_units, HISTORY, 24, InputStats(shape=(1, 6)),
                 None, found, 12)
    assert fmt.window.shape == (1, 6) and fmt.scaling.source == "scaler scaler"
    assert fmt.scaling.lag == 0 and fmt.one_step_rmse < 1e-3
    forecast = closed_loop(knows_the_series_in_its_scalers_units, HISTORY, 24, fmt)
    assert np.allclose(forecast, FUTURE, atol=1e-2)


def test_a_model_that_fails_on_every_layout_says_why():
    def broken(batch: np.ndarray) -> np.ndarray:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    with pytest.raises(ValueError, match="mat1 and mat2"):
        choose(broken, HISTORY, 24, InputStats(shape=(12, 1)), None, [], 12)


def test_forecasts_that_are_not_numbers_are_refused():
    fmt = choose(persistence, HISTORY, 24, InputStats(shape=(12, 1)), None, [], 12)

    def exploding(batch: np.ndarray) -> np.ndarray:
        return np.full((len(batch), 1), np.inf)

    with pytest.raises(ValueError, match="not finite"):
        closed_loop(exploding, HISTORY, 24, fmt)
