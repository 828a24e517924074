"""Keras 2 calls that Keras 3 refuses, translated into what Keras 2 did.

Installed right after the notebook imports ``keras`` (Keras 3, also behind
``tensorflow.keras`` since TF 2.16); tf_keras (Keras 2 itself) is never
touched. Each translation applies only to arguments or methods Keras 3 would
reject, so code written for Keras 3 runs exactly as before.

- optimizers: ``lr=`` is ``learning_rate=`` (``lr`` wins, as in Keras 2);
  ``decay=d`` becomes ``InverseTimeDecay(learning_rate, 1, d)``, which is the
  ``lr / (1 + d * iterations)`` Keras 2 applied (a learning rate that is
  already a schedule keeps it, and ``decay`` is dropped with a note);
  ``epsilon=None`` is the default 1e-7, as Keras 2 read it;
  ``tf.keras.optimizers.legacy.X`` is ``keras.optimizers.X``.
- ``fit_generator`` / ``evaluate_generator`` / ``predict_generator`` call
  ``self.fit`` / ``evaluate`` / ``predict``, so the probe's tracking of
  ``fit`` sees the model; ``workers=``, ``use_multiprocessing=``,
  ``max_queue_size=`` (now settings of a PyDataset) are dropped.
- saving: ``model.save("name")`` without ``.keras``/``.h5`` (Keras 2 wrote a
  SavedModel folder) writes Keras 3's model folder there, which
  ``load_model("name")`` reads back; ``save_weights("w.h5")`` writes the
  Keras 2 HDF5 weights file that Keras 3's ``load_weights`` reads;
  ``ModelCheckpoint`` accepts the same Keras 2 paths.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .compat import used

_MARK = "_nngrade_compat"
_QUEUE_ARGS = ("max_queue_size", "workers", "use_multiprocessing")
_LEGACY_OPTIMIZERS = ("Adadelta", "Adagrad", "Adam", "Adamax", "Ftrl", "Nadam", "RMSprop", "SGD")
_MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
_SAVEDMODEL_ONLY = ("save_format", "signatures", "options", "save_traces")
# Keras 2's positional parameters after the generator.
_GENERATOR_ARGS = {
    "fit": ("steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data",
            "validation_steps", "validation_freq", "class_weight", "max_queue_size", "workers",
            "use_multiprocessing", "shuffle", "initial_epoch"),
    "evaluate": ("steps", "callbacks", "max_queue_size", "workers", "use_multiprocessing",
                 "verbose"),
    "predict": ("steps", "callbacks", "max_queue_size", "workers", "use_multiprocessing",
                "verbose"),
}


def _is_keras3(keras: ModuleType) -> bool:
    version = str(getattr(keras, "__version__", "0"))
    return version.split(".")[0].isdigit() and int(version.split(".")[0]) >= 3


def _marked(function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, _MARK, True)
    return function


def _wrap_once(owner: type, name: str,
               make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace ``owner.name`` by ``make(original)``; installing twice wraps nothing twice."""
    original = getattr(owner, name)
    if getattr(original, _MARK, False):
        return
    setattr(owner, name, _marked(functools.wraps(original)(make(original))))


def _path(filepath: Any) -> str | None:
    return os.fspath(filepath) if isinstance(filepath, str | os.PathLike) else None


# --- optimizers ---------------------------------------------------------------------------

def _keras2_arguments(keras: ModuleType, name: str, init: Callable[..., Any],
                      args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for Keras 3's ``init`` from a Keras 2 call."""
    parameters = list(inspect.signature(init).parameters.values())[1:]
    names = [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    if len(args) > len(names) or set(names[:len(args)]) & kwargs.keys():
        raise TypeError(f"{name}() got unexpected arguments")
    kwargs = {**dict(zip(names, args, strict=False)), **kwargs}
    defaults = {p.name: p.default for p in parameters}
    if "lr" in kwargs:
        kwargs["learning_rate"] = kwargs.pop("lr")
        used("lr", optimizer=name)
    decay = kwargs.get("decay")
    if isinstance(decay, numbers.Real):  # anything else: Keras 3 warns and ignores it
        del kwargs["decay"]
    if isinstance(decay, numbers.Real) and decay:
        rate = kwargs.get("learning_rate", defaults.get("learning_rate"))
        if isinstance(rate, numbers.Real):
            kwargs["learning_rate"] = keras.optimizers.schedules.InverseTimeDecay(
                rate, decay_steps=1, decay_rate=decay)
            used("decay", optimizer=name)
        else:
            used("decay_ignored", optimizer=name)
    if "epsilon" in kwargs and kwargs["epsilon"] is None:
        del kwargs["epsilon"]
        used("epsilon_none", optimizer=name, default=str(defaults.get("epsilon")))
    return kwargs


def _wrap_optimizer(keras: ModuleType, cls: type) -> None:
    init = cls.__dict__.get("__init__")
    if init is None or getattr(init, _MARK, False):
        return
    try:
        parameters = inspect.signature(init).parameters
    except (TypeError, ValueError):
        return
    if "learning_rate" not in parameters:
        return

    @functools.wraps(init)
    def init_keras2(self: Any, *args: Any, **kwargs: Any) -> None:
        if ("lr" in kwargs or "decay" in kwargs or kwargs.get("epsilon", 0) is None
                or any(arg is None for arg in args)):
            try:
                kwargs = _keras2_arguments(keras, cls.__name__, init, args, kwargs)
                args = ()
            except TypeError:
                pass  # let Keras 3 report the call as it would
        init(self, *args, **kwargs)

    cls.__init__ = _marked(init_keras2)  # type: ignore[misc]


def _optimizer_classes(keras: ModuleType) -> list[type]:
    base = keras.optimizers.Optimizer
    return [value for value in vars(keras.optimizers).values()
            if isinstance(value, type) and issubclass(value, base) and value is not base]


def patch_legacy_optimizers(module: ModuleType) -> None:
    """Post-import callback for ``*.optimizers.legacy``: Keras 3's stubs there only raise.

    Runs while ``keras`` itself may still be importing, so the modern class is
    looked up at call time.
    """
    stubs = [value for value in vars(module).values()
             if isinstance(value, type) and value.__name__ == "LegacyOptimizerWarning"]
    if not stubs:  # Keras 2's real legacy optimizers
        return
    for name in _LEGACY_OPTIMIZERS:
        setattr(module, name, _legacy_factory(name))


def _legacy_factory(name: str) -> Callable[..., Any]:
    def legacy(*args: Any, **kwargs: Any) -> Any:
        import keras

        used("legacy_optimizer", optimizer=name)
        return getattr(keras.optimizers, name)(*args, **kwargs)

    legacy.__name__ = legacy.__qualname__ = name
    legacy.__doc__ = f"Keras 2's legacy {name}, served as keras.optimizers.{name} by nngrade."
    return _marked(legacy)


# --- Model methods ------------------------------------------------------------------------

def _generator_method(modern: str) -> Callable[..., Any]:
    positional = _GENERATOR_ARGS[modern]

    def method(self: Any, generator: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) > len(positional):
            raise TypeError(f"{modern}_generator() takes at most {len(positional) + 1} "
                            "positional arguments")
        for key, value in zip(positional, args, strict=False):
            if key in kwargs:
                raise TypeError(f"{modern}_generator() got multiple values for {key!r}")
            kwargs[key] = value
        if modern != "fit":
            kwargs.setdefault("verbose", 0)  # Keras 2's default for these two
        used("generator_method", method=modern)
        return getattr(self, modern)(generator, **kwargs)

    method.__name__ = method.__qualname__ = f"{modern}_generator"
    method.__doc__ = f"Keras 2's {modern}_generator: calls self.{modern} (nngrade)."
    return _marked(method)


def _without_queue_arguments(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        for key in _QUEUE_ARGS:
            if key in kwargs:
                del kwargs[key]
                used("pydataset_argument", argument=key, method=name)
        return method(self, *args, **kwargs)

    return call


def _keras2_save(save: Callable[..., Any]) -> Callable[..., Any]:
    def save_keras2(self: Any, filepath: Any, *args: Any, **kwargs: Any) -> Any:
        path = _path(filepath)
        if (path is None or path.endswith(_MODEL_SUFFIXES) or path.startswith("hf://")
                or args or "zipped" in kwargs):
            return save(self, filepath, *args, **kwargs)
        for key in _SAVEDMODEL_ONLY:
            kwargs.pop(key, None)
        assets = os.path.join(path, "assets")
        if os.path.isdir(assets) and not os.listdir(assets):
            os.rmdir(assets)  # Keras 3 cannot save over its own folder otherwise
        used("save_folder")
        return save(self, filepath, zipped=False, **kwargs)

    return save_keras2


def _keras2_save_weights(save_weights: Callable[..., Any]) -> Callable[..., Any]:
    def save_weights_keras2(self: Any, filepath: Any, *args: Any, **kwargs: Any) -> Any:
        path = _path(filepath)
        if (path is None or not path.endswith((".h5", ".hdf5")) or path.endswith(".weights.h5")
                or args or kwargs.get("max_shard_size")):
            return save_weights(self, filepath, *args, **kwargs)
        try:
            import h5py
            from keras.src.legacy.saving import legacy_h5_format
        except ImportError:
            return save_weights(self, filepath, *args, **kwargs)
        with h5py.File(path, "w") as handle:
            legacy_h5_format.save_weights_to_hdf5_group(handle, self)
        used("save_weights_h5")
        return None

    return save_weights_keras2


def _keras2_checkpoint(init: Callable[..., Any]) -> Callable[..., Any]:
    def init_keras2(self: Any, filepath: Any, *args: Any, **kwargs: Any) -> None:
        path = _path(filepath)
        weights_only = kwargs.get("save_weights_only", args[3] if len(args) > 3 else False)
        accepted = (".weights.h5",) if weights_only else (".keras", ".h5")
        bridged = (path is not None and not path.endswith(accepted)
                   and (not weights_only or path.endswith((".h5", ".hdf5"))))
        if not bridged:
            init(self, filepath, *args, **kwargs)
            return
        init(self, path + accepted[0], *args, **kwargs)
        self.filepath = path
        used("checkpoint_path")

    return init_keras2


def install_keras_compat(keras: ModuleType) -> None:
    """Post-import callback for ``keras``: bridge Keras 2 calls on Keras 3 only."""
    if not _is_keras3(keras):
        return
    for cls in _optimizer_classes(keras):
        _wrap_optimizer(keras, cls)
    model = keras.Model
    for modern in _GENERATOR_ARGS:
        if not hasattr(model, f"{modern}_generator"):
            setattr(model, f"{modern}_generator", _generator_method(modern))
    for name in _GENERATOR_ARGS:
        _wrap_once(model, name, functools.partial(_without_queue_arguments, name))
    _wrap_once(model, "save", _keras2_save)
    _wrap_once(model, "save_weights", _keras2_save_weights)
    _wrap_once(keras.callbacks.ModelCheckpoint, "__init__", _keras2_checkpoint)
