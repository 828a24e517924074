"""Measure a Keras model: call it on batches with ``training=False``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .keras_layers import static_layers, traced_layers
from .parts import keras_parts, keras_signature

TF_KERAS_OPSET = 17


def to_numpy(value: Any) -> np.ndarray:
    """A backend tensor (TensorFlow, torch or JAX) as a numpy array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


class KerasModel:
    """Adapter the measurer drives."""

    framework = "keras"

    def __init__(self, model: Any) -> None:
        self.model = model

    def class_name(self) -> str:
        """Class of the model (Sequential, Functional or the student's subclass)."""
        return type(self.model).__name__

    def param_count(self) -> int:
        """Trainable and non-trainable weights, as ``model.count_params()`` reports; for
        a model that is never built itself (a VAE whose ``train_step`` calls its encoder
        and decoder), the sum over the weights it holds."""
        try:
            return int(self.model.count_params())
        except ValueError:
            return int(sum(np.prod(tuple(w.shape)) for w in self.model.weights))

    def declared_shape(self) -> tuple[int, ...] | None:
        """Per-sample input shape the model was built with, when fully known."""
        for getter in (lambda m: m.inputs[0].shape, lambda m: m.input_shape):
            try:
                shape = tuple(getter(self.model))[1:]
            except Exception:
                continue
            if shape and all(isinstance(d, int) for d in shape):
                return tuple(int(d) for d in shape)
        return None

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs for a float32 batch already in the model's layout."""
        out = self.model(x, training=False)
        if isinstance(out, (list, tuple)) and out:
            out = out[0]
        if isinstance(out, dict):
            raise TypeError("model returned a dict of outputs")
        return to_numpy(out).astype(np.float32, copy=False)

    def export_onnx(self, path: Any, example: np.ndarray) -> None:
        """Keras 3's own ONNX export; a Keras 2 (tf-keras) model through tf2onnx.

        Keras 2's ``export`` writes only a SavedModel, so its forward pass is traced as a
        ``tf.function`` over a batch-free signature and converted the way Keras 3 does
        it under TensorFlow.
        """
        if not type(self.model).__module__.startswith("tf_keras"):
            self.model.export(str(path), format="onnx", verbose=False)
            return
        import tensorflow as tf
        import tf2onnx

        model = self.model
        forward = tf.function(lambda batch: model(batch, training=False))
        signature = (tf.TensorSpec((None, *example.shape[1:]), tf.float32, name="input"),)
        tf2onnx.convert.from_function(forward, input_signature=signature,
                                      opset=TF_KERAS_OPSET, output_path=str(path))

    def signature(self) -> tuple[list[list[int | None]], list[list[int | None]]]:
        """Per-sample input and output shapes the model was built with."""
        return keras_signature(self.model)

    def parts(self) -> list[dict[str, Any]]:
        """The models inside it: a VAE's encoder and decoder."""
        return keras_parts(self.model)

    def layers(self, sample: np.ndarray | None) -> list[dict[str, Any]]:
        """Execution-order layers from one traced call, else the nested layer lists."""
        if sample is not None:
            try:
                traced = traced_layers(self.model, sample)
            except Exception:
                traced = []
            if traced:
                return traced
        return static_layers(self.model)

    def close(self) -> None:
        """Nothing to restore: Keras takes ``training`` per call."""
