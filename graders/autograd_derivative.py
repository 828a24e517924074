"""Expected values for `autograd_derivative`: the function and its analytic derivative.

f(x) = sin(x²)·e^(−x/3) + ln(1 + x²)
"""

from __future__ import annotations

import numpy as np


def f(x: np.ndarray) -> np.ndarray:
    return np.sin(x**2) * np.exp(-x / 3) + np.log1p(x**2)


def df(x: np.ndarray) -> np.ndarray:
    decay = np.exp(-x / 3)
    return 2 * x * np.cos(x**2) * decay - np.sin(x**2) * decay / 3 + 2 * x / (1 + x**2)
