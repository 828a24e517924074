"""Count backward passes, to tell an autograd gradient from a hand-written one.

The entry points are wrapped when torch is imported (before the notebook can
bind ``from torch.autograd import grad``), and the count is a plain integer, so
the cost while the notebook trains is one increment per backward pass. Nested
entries (``Tensor.backward`` calls ``torch.autograd.backward``) count once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_MARK = "_nngrade_probe_counted"
_RETURNS_FUNCTION = ("grad", "grad_and_value", "jacrev", "hessian")


class AutogradCounter:
    """Backward passes started since the counter was created."""

    def __init__(self) -> None:
        self.calls = 0
        self._depth = 0

    def counted(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap ``fn`` so each outermost call counts one backward pass."""
        if getattr(fn, _MARK, False):
            return fn

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self._depth == 0:
                self.calls += 1
            self._depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1

        setattr(wrapper, _MARK, True)
        return wrapper

    def counted_transform(self, transform: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a ``torch.func`` transform so calling the function it returns counts."""
        if getattr(transform, _MARK, False):
            return transform

        @functools.wraps(transform)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.counted(transform(*args, **kwargs))

        setattr(wrapper, _MARK, True)
        return wrapper


def install_autograd_counter(torch: Any) -> AutogradCounter:
    """Patch torch's backward entry points; returns the shared counter."""
    counter = AutogradCounter()
    torch.Tensor.backward = counter.counted(torch.Tensor.backward)
    torch.autograd.backward = counter.counted(torch.autograd.backward)
    torch.autograd.grad = counter.counted(torch.autograd.grad)
    func = getattr(torch, "func", None)
    if func is not None:
        for name in _RETURNS_FUNCTION:
            if hasattr(func, name):
                setattr(func, name, counter.counted_transform(getattr(func, name)))
        if hasattr(func, "vjp"):
            func.vjp = counter.counted(func.vjp)
    return counter
