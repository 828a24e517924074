"""Notice which PyTorch modules the notebook trains, with a few global hooks.

A module counts as trained when an optimizer stepped one of its parameters, or
(for hand-written SGD) when its weights changed after it was first called with
grad enabled. Only top-level calls are recorded, so the whole model is held,
not its layers. Per call the cost is one dict lookup; statistics of the inputs
are kept for the first few calls only, as lazy 0-d tensors (no device sync).
"""

from __future__ import annotations

import importlib
import weakref
from dataclasses import dataclass, field
from typing import Any

from .state import MAX_FEATURES, STATE, InputStats, feature_moments, sample_rows

_STAT_CALLS = 3
_STAT_ROWS = 256
_MAX_HELD = 256


@dataclass
class _Seen:
    """A top-level module called with grad enabled."""

    module: Any
    order: int
    calls: int = 0
    shape: tuple[int, ...] | None = None
    dtype: str = ""
    moments: list[tuple[Any, Any]] = field(default_factory=list)
    features: list[Any] = field(default_factory=list)  # (rows, features) samples, if 2-D
    rows: Any = None  # a few small training inputs, as numpy
    fingerprint: list[Any] | None = None


class TorchTracker:
    """Global forward/optimizer hooks; see the module docstring."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self.depth = 0
        self.seen: dict[int, _Seen] = {}
        self.ignored: weakref.WeakSet[Any] = weakref.WeakSet()
        self.stepped: dict[int, tuple[Any, int]] = {}
        self.optimizer_sizes: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        modules = importlib.import_module("torch.nn.modules.module")
        optimizer = importlib.import_module("torch.optim.optimizer")
        self.handles = [
            modules.register_module_forward_pre_hook(self._pre),
            modules.register_module_forward_hook(self._post, always_call=True),
            optimizer.register_optimizer_step_post_hook(self._stepped),
        ]

    def reset_depth(self) -> None:
        """Called before each cell: an interrupted forward must not leave depth stuck."""
        self.depth = 0

    def _pre(self, module: Any, args: tuple[Any, ...]) -> None:
        depth = self.depth
        self.depth = depth + 1
        if depth or not self.torch.is_grad_enabled():
            return
        seen = self.seen.get(id(module))
        if seen is None:
            seen = self._first_call(module)
            if seen is None:
                return
        if seen.calls < _STAT_CALLS:
            seen.calls += 1
            self._record_input(seen, args)

    def _post(self, module: Any, args: tuple[Any, ...], output: Any) -> None:
        if self.depth:
            self.depth -= 1

    def _first_call(self, module: Any) -> _Seen | None:
        if module in self.ignored or len(self.seen) >= _MAX_HELD:
            return None
        params = list(module.parameters())
        if not params:
            self.ignored.add(module)
            return None
        seen = _Seen(module=module, order=STATE.next_order())
        uninitialized = self.torch.nn.parameter.UninitializedParameter
        if not any(isinstance(p, uninitialized) for p in params):
            with self.torch.no_grad():
                seen.fingerprint = [p.detach().sum() for p in params]
        self.seen[id(module)] = seen
        return seen

    def _record_input(self, seen: _Seen, args: tuple[Any, ...]) -> None:
        x = args[0] if args else None
        if not isinstance(x, self.torch.Tensor) or x.dim() < 1:
            return
        seen.shape = tuple(int(d) for d in x.shape[1:])
        seen.dtype = str(x.dtype).replace("torch.", "")
        if x.is_floating_point() and x.shape[0] > 0:
            with self.torch.no_grad():
                sample = x[:_STAT_ROWS].detach().double()
                seen.moments.append((sample.mean(), sample.std(unbiased=False)))
                if sample.dim() == 2 and sample.shape[1] <= MAX_FEATURES:
                    seen.features.append(sample.cpu())
                if seen.rows is None:
                    seen.rows = sample_rows(sample.cpu().numpy())

    def _stepped(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        groups = optimizer.param_groups
        total = sum(len(group["params"]) for group in groups)
        if self.optimizer_sizes.get(optimizer) == total:
            return
        self.optimizer_sizes[optimizer] = total
        order = STATE.next_order()
        for group in groups:
            for param in group["params"]:
                self.stepped.setdefault(id(param), (param, order))

    def trained(self) -> list[tuple[int, Any, InputStats | None]]:
        """(order, module, input statistics) of every module that was trained."""
        found = []
        for seen in self.seen.values():
            params = list(seen.module.parameters())
            orders = [self.stepped[id(p)][1] for p in params
                      if id(p) in self.stepped and self.stepped[id(p)][0] is p]
            if orders:
                found.append((min(orders), seen.module, self._stats(seen)))
            elif self._changed(seen, params):
                found.append((seen.order, seen.module, self._stats(seen)))
        return found

    def _changed(self, seen: _Seen, params: list[Any]) -> bool:
        if seen.fingerprint is None or len(seen.fingerprint) != len(params):
            return False
        try:
            with self.torch.no_grad():
                return any(bool((p.detach().sum() != old).item())
                           for p, old in zip(params, seen.fingerprint, strict=True))
        except Exception:
            return False

    @staticmethod
    def _stats(seen: _Seen) -> InputStats | None:
        if seen.shape is None:
            return None
        stats = InputStats(shape=seen.shape, dtype=seen.dtype)
        if seen.moments:
            means = [float(m.item()) for m, _ in seen.moments]
            stds = [float(s.item()) for _, s in seen.moments]
            stats.mean = sum(means) / len(means)
            stats.std = sum(stds) / len(stds)
        stats.rows = seen.rows
        if seen.features:
            import numpy as np

            rows = np.concatenate([f.numpy() for f in seen.features])
            stats.feature_mean, stats.feature_std = feature_moments(rows) or (None, None)
        return stats


def install_torch(torch: Any) -> None:
    """Post-import callback for ``torch``: start tracking once, ever."""
    if STATE.torch_tracker is None:
        STATE.torch_tracker = TorchTracker(torch)
