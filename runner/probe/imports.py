"""Run callbacks right after a module is imported, without importing it ourselves.

Importing torch or TensorFlow costs seconds, so the probe never does; instead a
``sys.meta_path`` finder notices when the notebook imports one and patches it
as soon as the module has finished executing.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

Callback = Callable[[ModuleType], None]


def _run(callbacks: list[Callback], module: ModuleType) -> None:
    for callback in callbacks:
        try:
            callback(module)
        except Exception:  # a probe bug must never break the student's import
            traceback.print_exc(limit=3, file=sys.stderr)


class _PostImportFinder(MetaPathFinder):
    """Delegates finding to the other finders and wraps the loader's ``exec_module``."""

    def __init__(self) -> None:
        self.callbacks: dict[str, list[Callback]] = {}
        self._busy: set[str] = set()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        callbacks = self.callbacks.get(fullname)
        if not callbacks or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
        finally:
            self._busy.discard(fullname)
        loader = getattr(spec, "loader", None)
        exec_module = getattr(loader, "exec_module", None)
        if spec is None or exec_module is None:
            return spec

        def exec_then_patch(module: ModuleType) -> None:
            exec_module(module)
            _run(self.callbacks.get(fullname, []), module)

        try:
            loader.exec_module = exec_then_patch  # type: ignore[union-attr]
        except (AttributeError, TypeError):
            return spec
        return spec


_FINDER = _PostImportFinder()


def when_imported(name: str, callback: Callback) -> None:
    """Call ``callback(module)`` once ``name`` is imported (now, if it already is)."""
    module = sys.modules.get(name)
    if module is not None:
        _run([callback], module)
        return
    _FINDER.callbacks.setdefault(name, []).append(callback)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
