"""Keras 2 module paths and names under Keras 3, served from Keras 3's own namespaces.

``from keras.layers.core import Dense`` fails on Keras 3: the Keras 2 modules
(``layers.core``, ``layers.convolutional``, ``utils.np_utils``, ...) are gone
and their classes live in ``keras.layers`` / ``keras.utils``. A finder at the
*end* of ``sys.meta_path`` (so any real module of that name wins) serves each
such path as a read-through alias of the namespace; the same names reached as
attributes (``tf.keras.layers.experimental.preprocessing.Rescaling``) come
from a module ``__getattr__`` on the parent. Names Keras 3 kept only in its
``tf.keras`` namespace for Keras 2 code (``keras.preprocessing.image.
ImageDataGenerator``, ``keras.backend.sum``) are served from there.

TensorFlow imports ``tensorflow.keras.*`` as separate copies of the files
behind ``keras._tf_keras.keras.*``, so each prefix is patched on its own.
"""

from __future__ import annotations

import importlib
import sys
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from .compat import from_user_code, used

PREFIXES = ("keras.", "keras._tf_keras.keras.", "tensorflow.keras.")
_TF_KERAS = "keras._tf_keras.keras."
# Keras 2 module (after the prefix) -> the Keras 3 namespace that holds its names.
_KERAS2_MODULES = {
    **{f"layers.{name}": "layers" for name in (
        "core", "convolutional", "pooling", "recurrent", "normalization", "merge",
        "embeddings", "advanced_activations", "noise", "wrappers", "local",
        "convolutional_recurrent", "experimental", "experimental.preprocessing")},
    **{f"utils.{name}": "utils" for name in (
        "np_utils", "vis_utils", "data_utils", "generic_utils")},
}
ALIASES = {prefix + old: prefix + new for prefix in PREFIXES
           for old, new in _KERAS2_MODULES.items()}
# Namespaces that get a ``__getattr__``: parents of the aliases, and those whose
# Keras 2 names Keras 3 keeps under keras._tf_keras.keras.
_PATCHED = ("layers", "utils", "backend", "losses", "metrics", "preprocessing",
            "preprocessing.image", "preprocessing.sequence")
NAMESPACES = tuple(prefix + name for prefix in PREFIXES for name in _PATCHED)
_MARK = "_nngrade_compat"


def shown(name: str) -> str:
    """A module's name as a notebook spells it."""
    return "tf.keras." + name.removeprefix(_TF_KERAS) if name.startswith(_TF_KERAS) else name


def alias_module(name: str) -> ModuleType:
    """The alias module for Keras 2's ``name``, recorded as used."""
    module = sys.modules.get(name)
    if module is None:
        module = sys.modules.setdefault(name, _new_alias(name))
    used("module_alias", module=shown(name), served_as=shown(ALIASES[name]))
    return module


def _new_alias(name: str) -> ModuleType:
    target_name = ALIASES[name]
    target = importlib.import_module(target_name)
    module = ModuleType(name, f"Keras 2's {name}, served as {target_name} by nngrade.")
    module.__path__ = []  # a package, so its own Keras 2 submodules import too
    module.__all__ = [n for n in dir(target) if not n.startswith("_")]

    def __getattr__(attr: str) -> Any:
        if f"{name}.{attr}" in ALIASES:
            return alias_module(f"{name}.{attr}")
        try:
            return getattr(target, attr)
        except AttributeError:
            raise AttributeError(f"module {name!r} (served as {target_name!r}) has no "
                                 f"attribute {attr!r}") from None

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]
    return module


class _AliasLoader(Loader):
    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return _new_alias(spec.name)

    def exec_module(self, module: ModuleType) -> None:
        alias_module(module.__name__)


class _AliasFinder(MetaPathFinder):
    """Answers only for Keras 2 paths that no finder before it found."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname not in ALIASES:
            return None
        return ModuleSpec(fullname, _AliasLoader(), is_package=True)


_FINDER = _AliasFinder()


def install_module_aliases() -> None:
    """Append the alias finder to ``sys.meta_path`` (imports nothing)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)


def _tf_keras_twin(name: str) -> ModuleType | None:
    """``keras._tf_keras.keras.X`` for ``keras.X``, where Keras 3 keeps Keras 2's names."""
    if not name.startswith("keras.") or name.startswith(_TF_KERAS):
        return None
    try:
        return importlib.import_module(_TF_KERAS + name.removeprefix("keras."))
    except ImportError:
        return None


def patch_namespace(module: ModuleType) -> None:
    """Post-import callback: serve Keras 2 names the namespace ``module`` lacks."""
    original = module.__dict__.get("__getattr__")
    if getattr(original, _MARK, False):
        return
    name = module.__name__

    def __getattr__(attr: str) -> Any:
        if original is not None:
            try:
                return original(attr)
            except AttributeError:
                pass
        if not attr.startswith("__") and from_user_code():
            if f"{name}.{attr}" in ALIASES:
                return alias_module(f"{name}.{attr}")
            twin = _tf_keras_twin(name)
            if twin is not None and twin is not module and attr in vars(twin):
                used("tf_keras_only", name=f"{name}.{attr}",
                     served_as=f"tf.keras.{name.removeprefix('keras.')}.{attr}")
                return vars(twin)[attr]
        raise AttributeError(f"module {name!r} has no attribute {attr!r}")

    setattr(__getattr__, _MARK, True)
    module.__getattr__ = __getattr__  # type: ignore[attr-defined]
