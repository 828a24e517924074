"""Forecast a series with a trained model, closed loop, the way the student fed it.

A forecasting model maps a window of the last W values (scaled, laid out as
(W, 1), (1, W) or (W,)) to the next value; or of the last W differences
(to the month before, or to the same month a season earlier), to the next
difference. The window, layout, differencing and scaling are found on the
public history: the candidate whose one-step-ahead forecasts of the
history's last values are closest wins, with a head start for the window the
model was trained on and the scalers the notebook fitted. Then the model
forecasts the horizon from the end of the history, each prediction fed back
as the newest value: no value after the history is ever needed, so none is
in the sandbox.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .state import InputStats

Predict = Callable[[np.ndarray], np.ndarray]

DEFAULT_WINDOWS = (1, 3, 6, 12, 24)
TRUSTED_HEAD_START = 0.85  # the error of a recorded window or fitted scaler counts 85%
MAX_SCALERS = 8


@dataclass(frozen=True)
class Scaling:
    """scaled = scale * value + shift, of the values or of their differences at ``lag``."""

    scale: float
    shift: float
    source: str
    lag: int = 0

    def forward(self, values: np.ndarray) -> np.ndarray:
        """The model's inputs for a stretch of raw values (``lag`` fewer of them)."""
        if self.lag:
            values = values[self.lag:] - values[:-self.lag]
        return values * self.scale + self.shift

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        """Raw units (a value, or a difference when ``lag``) of the model's outputs."""
        return (scaled - self.shift) / self.scale

    def with_lag(self, lag: int) -> Scaling:
        return Scaling(self.scale, self.shift, self.source, lag)

@dataclass(frozen=True)
class Window:
    length: int
    shape: tuple[int, ...]  # per-sample shape the model takes
    trusted: bool  # recorded from training or declared by the model


@dataclass
class SeriesFormat:
    window: Window
    scaling: Scaling
    one_step_rmse: float

    def as_json(self) -> dict[str, object]:
        """JSON-ready form of ``runner.measurements.InputFormat``."""
        return {"shape": list(self.window.shape), "scale": float(self.scaling.scale),
                "shift": float(self.scaling.shift), "source": self.scaling.source,
                "lag": self.scaling.lag, "window": self.window.length,
                "decision": f"window {self.window.length}, closed loop"}

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> SeriesFormat:
        """The format ``as_json`` wrote; the clean room feeds an exported graph with it."""
        shape = tuple(int(d) for d in spec["shape"])
        if not 1 <= len(shape) <= 2 or (len(shape) == 2 and 1 not in shape):
            raise ValueError(f"a window has shape (W,), (W, 1) or (1, W), not {list(shape)}")
        length = max(shape)
        scaling = Scaling(float(_number(spec["scale"])), float(_number(spec["shift"])),
                          str(spec.get("source", "")), int(spec.get("lag", 0)))
        return cls(Window(length, shape, True), scaling, math.nan)


def _number(value: float | list[float]) -> float:
    """A forecast's scaling is one number; a list of one is accepted as that number."""
    if isinstance(value, list):
        (value,) = value
    return value


def fitted_scalers(namespace: dict[str, Any]) -> list[Scaling]:
    """One-feature MinMaxScaler / StandardScaler objects the notebook fitted, as scalings."""
    found: list[Scaling] = []
    for name, value in list(namespace.items()):
        if name.startswith("_") or len(found) >= MAX_SCALERS:
            continue
        kind = type(value).__name__
        try:
            if kind == "MinMaxScaler" and len(value.scale_) == 1:
                found.append(Scaling(float(value.scale_[0]), float(value.min_[0]),
                                     f"scaler {name}"))
            elif kind == "StandardScaler" and len(value.scale_) == 1:
                scale = 1 / float(value.scale_[0])
                found.append(Scaling(scale, -float(value.mean_[0]) * scale, f"scaler {name}"))
        except (AttributeError, TypeError, ValueError, ZeroDivisionError):
            continue  # not fitted, or not what its class name says
    return [s for s in found if math.isfinite(s.scale) and math.isfinite(s.shift) and s.scale]


def scalings(history: np.ndarray, stats: InputStats | None, scalers: list[Scaling],
             period: int | None = None) -> list[Scaling]:
    """Per differencing (none, lag 1, lag ``period``): the notebook's scalers, the match to
    the training moments, then the usual maps of that series."""
    found: list[Scaling] = []
    for lag in (0, 1, period):
        if lag is None or lag >= len(history) // 2 or (lag and lag in {s.lag for s in found}):
            continue
        series = history[lag:] - history[:-lag] if lag else history
        found += _scalings_of(series, stats, [s.with_lag(lag) for s in scalers], lag)
    return found


def _scalings_of(series: np.ndarray, stats: InputStats | None, scalers: list[Scaling],
                 lag: int) -> list[Scaling]:
    low, high = float(series.min()), float(series.max())
    mean, std = float(series.mean()), float(series.std())
    tiny = 1e-9 * max(1.0, abs(high), abs(low))  # a constant series: no range to scale by
    span = high - low if high - low > tiny else 1.0
    std = std if std > tiny else 1.0
    found = list(scalers)
    if stats is not None and stats.has_moments() and std > tiny:
        scale = float(stats.std) / std
        found.append(Scaling(scale, float(stats.mean) - scale * mean, "training-data", lag))
    usual = [Scaling(1 / span, -low / span, "calibrated", lag),
             Scaling(2 / span, -2 * low / span - 1, "calibrated", lag),
             Scaling(1 / std, -mean / std, "calibrated", lag),
             Scaling(1.0, 0.0, "calibrated", lag)]
    for candidate in usual:  # a usual map the notebook's own scaler already is: keep its name
        if not any(_same_map(candidate, other, low, high) for other in found):
            found.append(candidate)
    return found


def _same_map(a: Scaling, b: Scaling, low: float, high: float) -> bool:
    """Whether two maps send the history's range to the same place, within 0.1%."""
    ends = np.array([low, high])
    ends_a, ends_b = ends * a.scale + a.shift, ends * b.scale + b.shift
    tolerance = 1e-3 * max(float(np.ptp(ends_b)), 1e-12)
    return bool(np.all(np.abs(ends_a - ends_b) <= tolerance))


def windows(stats: InputStats | None, declared: tuple[int, ...] | None,
            longest: int) -> list[Window]:
    """Window lengths and layouts: recorded or declared ones, else the usual lengths."""
    found: list[Window] = []
    for shape in (stats.shape if stats else None, declared):
        if not shape:
            continue
        shape = tuple(int(d) for d in shape)
        if len(shape) == 2 and shape[1] == 1:
            found.append(Window(shape[0], shape, True))
        elif len(shape) == 2 and shape[0] == 1:
            found.append(Window(shape[1], shape, True))
        elif len(shape) == 1:
            found.append(Window(shape[0], shape, True))
    if not found:
        for length in DEFAULT_WINDOWS:
            found += [Window(length, (length, 1), False), Window(length, (1, length), False),
                      Window(length, (length,), False)]
    unique = {(w.length, w.shape): w for w in found if 0 < w.length < longest}
    return list(unique.values())


def next_values(predict: Predict, windows_scaled: np.ndarray, window: Window) -> np.ndarray:
    """The model's next value (scaled) for each row of ``windows_scaled`` (n, W)."""
    batch = windows_scaled.astype(np.float32).reshape((len(windows_scaled), *window.shape))
    out = np.asarray(predict(batch), dtype=np.float64)
    if out.ndim == 0 or out.shape[0] != len(windows_scaled):
        raise ValueError(f"model output has shape {tuple(out.shape)} for {len(batch)} windows")
    return out.reshape(len(windows_scaled), -1)[:, -1]


def _windows(history: np.ndarray, window: Window, scaling: Scaling, count: int) -> np.ndarray:
    """The scaled windows (count, W) that precede each of the history's last ``count`` values."""
    lag = scaling.lag
    scaled = scaling.forward(history)  # scaled[j] belongs to history[j + lag]
    ends = range(len(history) - count, len(history))
    return np.stack([scaled[end - lag - window.length:end - lag] for end in ends])


def calibration_windows(history: np.ndarray, fmt: SeriesFormat, count: int = 24) -> np.ndarray:
    """Public windows in the model's own layout: what its export is checked against."""
    count = max(1, min(count, len(history) - fmt.scaling.lag - fmt.window.length))
    rows = _windows(history, fmt.window, fmt.scaling, count)
    return rows.astype(np.float32).reshape((len(rows), *fmt.window.shape))


def one_step_rmse(predict: Predict, history: np.ndarray, window: Window, scaling: Scaling,
                  count: int) -> float:
    """Error of one-step-ahead forecasts of the history's last ``count`` values."""
    lag = scaling.lag
    predicted = scaling.inverse(next_values(predict, _windows(history, window, scaling, count),
                                            window))
    if lag:
        predicted = predicted + history[len(history) - count - lag:len(history) - lag]
    return float(np.sqrt(np.mean((predicted - history[len(history) - count:]) ** 2)))


def choose(predict: Predict, history: np.ndarray, horizon: int, stats: InputStats | None,
           declared: tuple[int, ...] | None, scalers: list[Scaling],
           period: int | None = None) -> SeriesFormat:
    """The window, differencing and scaling whose one-step forecasts fit the history best."""
    best: SeriesFormat | None = None
    best_score = math.inf
    errors: list[str] = []
    candidates = windows(stats, declared, len(history))
    if not candidates:
        raise ValueError(f"no window length fits a history of {len(history)} values")
    pairs = [(w, s) for w in candidates for s in scalings(history, stats, scalers, period)]
    # The student's own transformation reproduces the inputs the model was trained on;
    # where one does, only such are tried. Else plain values: a model is not credited with
    # a differencing its student never did because it happens to forecast better.
    own = [(w, s) for w, s in pairs if _reproduces(stats, history, w, s)]
    pairs = own or [(w, s) for w, s in pairs if s.lag == 0]
    failed: set[tuple[int, ...]] = set()
    for window, scaling in pairs:
        count = min(horizon, len(history) - scaling.lag - window.length)
        if count < 1 or window.shape in failed:
            continue
        try:
            error = one_step_rmse(predict, history, window, scaling, count)
        except Exception as exc:
            errors.append(f"window {list(window.shape)}: {type(exc).__name__}: {exc}"[:300])
            failed.add(window.shape)  # the layout fails whatever the scaling
            continue
        if not math.isfinite(error):
            continue
        trusted = window.trusted or scaling.source.startswith("scaler")
        score = error * (TRUSTED_HEAD_START if trusted else 1.0)
        if score < best_score:
            best, best_score = SeriesFormat(window, scaling, error), score
    if best is None:
        raise ValueError("no window layout worked: " + "; ".join(errors[:3]))
    return best


def _reproduces(stats: InputStats | None, history: np.ndarray, window: Window,
                scaling: Scaling) -> bool:
    """Whether most recorded training inputs are windows of the history so transformed."""
    rows = None if stats is None else stats.rows
    if rows is None or rows.shape[1] != window.length:
        return False
    scaled = scaling.forward(history)
    if len(scaled) < window.length:
        return False
    windows = np.lib.stride_tricks.sliding_window_view(scaled, window.length)
    tolerance = 1e-3 * max(float(np.abs(rows).max()), 1e-6)
    found = sum(bool(np.any(np.all(np.abs(windows - row) <= tolerance, axis=1))) for row in rows)
    return found * 2 > len(rows)


def closed_loop(predict: Predict, history: np.ndarray, horizon: int,
                fmt: SeriesFormat) -> np.ndarray:
    """Forecast ``horizon`` values, each one fed back as the newest input."""
    values = [float(v) for v in history]
    length, lag = fmt.window.length, fmt.scaling.lag
    with np.errstate(invalid="ignore", over="ignore"):  # checked below, once
        _extend(predict, values, horizon, length, lag, fmt)
    forecast = np.asarray(values[-horizon:])
    if not np.all(np.isfinite(forecast)):
        raise ValueError("the forecast holds values that are not finite numbers")
    return forecast


def _extend(predict: Predict, values: list[float], horizon: int, length: int, lag: int,
            fmt: SeriesFormat) -> None:
    for _ in range(horizon):
        recent = np.asarray(values[-(length + lag):])
        row = fmt.scaling.forward(recent)[None, -length:]
        step = float(fmt.scaling.inverse(next_values(predict, row, fmt.window))[0])
        values.append(step + (values[-lag] if lag else 0.0))
