"""Forecasts that need no model, computed on the host to compare models with.

A model that cannot beat "the same month a year earlier" has not learned the
series; these are the yardsticks a forecasting check may name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from runner.i18n.message import Message, msg


def naive(history: np.ndarray, horizon: int, period: int | None = None) -> np.ndarray:
    """Every future value equals the last observed one."""
    return np.full(horizon, float(history[-1]))


def seasonal_naive(history: np.ndarray, horizon: int, period: int | None = None) -> np.ndarray:
    """Each future value equals the value one season earlier; the last season repeats."""
    if period is None or len(history) < period:
        raise ValueError("the seasonal naive forecast needs a season no longer than the history")
    last = history[-period:]
    return np.array([last[step % period] for step in range(horizon)], dtype=np.float64)


BASELINES: dict[str, tuple[Message, Callable[[np.ndarray, int, int | None], np.ndarray]]] = {
    "naive": (msg("baseline.naive"), naive),
    "seasonal_naive": (msg("baseline.seasonal_naive"), seasonal_naive),
}
"""Name -> (words for a report: "seasonal naive forecast (each month as in the last
observed year)", forecast function)."""


def short_name(name: str) -> Message | str:
    """'seasonal naive forecast': a baseline's words without their explanation
    (``baseline.<name>.short``); an unknown name as it is."""
    return msg(f"baseline.{name}.short") if name in BASELINES else name


def forecasts(history: np.ndarray, horizon: int, period: int | None) -> dict[str, np.ndarray]:
    """Every baseline that is defined for this history."""
    found = {}
    for name, (_, function) in BASELINES.items():
        try:
            found[name] = function(history, horizon, period)
        except ValueError:
            continue
    return found
