"""Serve notebooks written for older Colab the names newer NumPy and Keras removed.

Homework written for TF 2.8-2.12 (Keras 2, NumPy 1.2x) stops in its first
cells today on ``np.float`` or ``from keras.layers.core import Dense``. These
shims bridge such differences only where today's library would fail (a
missing attribute, a module that no longer exists, an argument it refuses),
only for the notebook's own code, and each use becomes one note in
measurements.json, so the report says exactly what was bridged.

Nothing here imports a framework: the NumPy and Keras patches are post-import
callbacks, and the module finder only answers for names no other finder has.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .imports import when_imported
from .state import STATE

__all__ = ["from_user_code", "install_compat", "used"]

_PROBE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_LIBRARY_DIRS = tuple(sorted({os.path.join(path, "") for key in ("stdlib", "purelib", "platlib")
                              if (path := sysconfig.get_paths().get(key))}))
_LIBRARY_MARKS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")
_MARK = "_nngrade_compat"


def used(shim: str, /, **params: Any) -> None:
    """Record that a shim served the notebook (once per distinct use):
    ``note.compat.<shim>`` in the catalogue says how, in words."""
    STATE.note(f"note.compat.{shim}", **params)


def from_user_code(depth: int = 2) -> bool:
    """True when the code asking (``depth`` frames up, past importlib) is the notebook's.

    Libraries written for today's versions sometimes probe for removed names
    (``hasattr(np, "float")``); they must keep seeing them missing, and such a
    probe is no use of a shim worth reporting.
    """
    try:
        frame: Any = sys._getframe(depth)
    except ValueError:  # called from C with no Python caller
        return False
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        frame = frame.f_back
    if frame is None:
        return False
    filename = frame.f_code.co_filename
    return not (filename.startswith(_PROBE_DIR) or filename.startswith(_LIBRARY_DIRS)
                or any(mark in filename for mark in _LIBRARY_MARKS))


# name: (what it is served as, how, removed in)
_NUMPY: dict[str, tuple[str, Callable[[ModuleType], Any], str]] = {
    "float": ("`float`", lambda np: float, "NumPy 1.24"),
    "int": ("`int`", lambda np: int, "NumPy 1.24"),
    "bool": ("`bool`", lambda np: bool, "NumPy 1.24"),
    "object": ("`object`", lambda np: object, "NumPy 1.24"),
    "complex": ("`complex`", lambda np: complex, "NumPy 1.24"),
    "str": ("`str`", lambda np: str, "NumPy 1.24"),
    "long": ("`int`", lambda np: int, "NumPy 1.24"),
    "unicode": ("`str`", lambda np: str, "NumPy 1.24"),
    "asscalar": ("`a.item()`", lambda np: lambda a: a.item(), "NumPy 1.23"),
    "float_": ("`np.float64`", lambda np: np.float64, "NumPy 2.0"),
    "complex_": ("`np.complex128`", lambda np: np.complex128, "NumPy 2.0"),
    "string_": ("`np.bytes_`", lambda np: np.bytes_, "NumPy 2.0"),
    "unicode_": ("`np.str_`", lambda np: np.str_, "NumPy 2.0"),
    "int0": ("`np.intp`", lambda np: np.intp, "NumPy 2.0"),
    "uint0": ("`np.uintp`", lambda np: np.uintp, "NumPy 2.0"),
    "bool8": ("`np.bool_`", lambda np: np.bool_, "NumPy 2.0"),
    "NaN": ("`np.nan`", lambda np: np.nan, "NumPy 2.0"),
    "NAN": ("`np.nan`", lambda np: np.nan, "NumPy 2.0"),
    "Inf": ("`np.inf`", lambda np: np.inf, "NumPy 2.0"),
    "Infinity": ("`np.inf`", lambda np: np.inf, "NumPy 2.0"),
    "infty": ("`np.inf`", lambda np: np.inf, "NumPy 2.0"),
    "PINF": ("`np.inf`", lambda np: np.inf, "NumPy 2.0"),
    "NINF": ("`-np.inf`", lambda np: -np.inf, "NumPy 2.0"),
    "product": ("`np.prod`", lambda np: np.prod, "NumPy 2.0"),
    "cumproduct": ("`np.cumprod`", lambda np: np.cumprod, "NumPy 2.0"),
    "alltrue": ("`np.all`", lambda np: np.all, "NumPy 2.0"),
    "sometrue": ("`np.any`", lambda np: np.any, "NumPy 2.0"),
    "round_": ("`np.round`", lambda np: np.round, "NumPy 2.0"),
    "mat": ("`np.asmatrix`", lambda np: np.asmatrix, "NumPy 2.0"),
    "in1d": ("`np.isin(...).ravel()`",
             lambda np: lambda *a, **k: np.isin(*a, **k).ravel(), "NumPy 2.4"),
    "trapz": ("`np.trapezoid`", lambda np: np.trapezoid, "NumPy 2.4"),
}


def install_numpy(numpy: ModuleType) -> None:
    """Answer NumPy's removed aliases through its module ``__getattr__`` (PEP 562).

    That hook runs only for names NumPy does not have, so a NumPy that still
    has one (``np.bool`` is back in NumPy 2) serves its own, unrecorded.
    """
    original = numpy.__dict__.get("__getattr__")
    if getattr(original, _MARK, False):
        return

    def __getattr__(name: str) -> Any:
        alias = _NUMPY.get(name)
        if alias is not None and from_user_code():
            served_as, value, removed = alias
            used("numpy_alias", name=name, served_as=served_as, removed=removed)
            return value(numpy)
        if original is None:
            raise AttributeError(f"module 'numpy' has no attribute {name!r}")
        return original(name)

    setattr(__getattr__, _MARK, True)
    numpy.__getattr__ = __getattr__  # type: ignore[attr-defined]


def install_compat() -> None:
    """Arm every shim; call once at kernel start (imports no framework)."""
    from .compat_keras import install_keras_compat, patch_legacy_optimizers
    from .compat_modules import NAMESPACES, install_module_aliases, patch_namespace

    when_imported("numpy", install_numpy)
    install_module_aliases()
    for name in NAMESPACES:
        when_imported(name, patch_namespace)
    when_imported("keras", install_keras_compat)
    for prefix in ("keras.", "keras._tf_keras.keras.", "tensorflow.keras."):
        when_imported(f"{prefix}optimizers.legacy", patch_legacy_optimizers)
