"""Measure a PyTorch model: predict in eval mode on its own device and dtype."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .parts import torch_parts, torch_signature
from .torch_layers import static_layers, traced_layers


class TorchModel:
    """Adapter the measurer drives; leaves train/eval flags as it found them (``close``)."""

    framework = "pytorch"

    def __init__(self, torch: Any, module: Any) -> None:
        self.torch = torch
        self.module = module
        first = next(itertools.chain(module.parameters(), module.buffers()), None)
        self.device = first.device if first is not None else torch.device("cpu")
        floating = first is not None and first.is_floating_point()
        self.dtype = first.dtype if floating else torch.float32
        self._modes = [(m, m.training) for m in module.modules()]

    def class_name(self) -> str:
        """Class of the model as the student named it."""
        return type(self.module).__name__

    def param_count(self) -> int:
        """Trainable and frozen parameters (buffers such as running means excluded)."""
        return int(sum(p.numel() for p in self.module.parameters()))

    def declared_shape(self) -> tuple[int, ...] | None:
        """PyTorch modules do not declare an input shape."""
        return None

    def _tensor(self, x: np.ndarray) -> Any:
        return self.torch.from_numpy(np.ascontiguousarray(x)).to(self.device, self.dtype)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs for a float32 batch already in the model's layout."""
        self.module.eval()
        with self.torch.no_grad():
            out = self.module(self._tensor(x))
        if isinstance(out, (tuple, list)) and out:
            out = out[0]
        if not isinstance(out, self.torch.Tensor):
            raise TypeError(f"model returned {type(out).__name__}, not a tensor")
        return out.detach().float().cpu().numpy()

    def export_onnx(self, path: Any, example: np.ndarray) -> None:
        """Trace the model in eval mode on ``example`` into an ONNX graph, any batch size."""
        self.module.eval()
        with self.torch.no_grad():
            self.torch.onnx.export(
                self.module, (self._tensor(example),), str(path), dynamo=False,
                input_names=["input"], output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})

    def signature(self) -> tuple[list[list[int | None]], list[list[int | None]]]:
        """Input size of the first weight layer, output size of the last."""
        return torch_signature(self.module)

    def parts(self) -> list[dict[str, Any]]:
        """Child networks: a VAE's encoder and decoder, a GAN wrapper's two nets."""
        return torch_parts(self.module)

    def layers(self, sample: np.ndarray | None) -> list[dict[str, Any]]:
        """Execution-order layers from one forward pass, else registration order."""
        if sample is not None:
            self.module.eval()
            try:
                return traced_layers(self.torch, self.module, self._tensor(sample))
            except Exception:
                pass
        return static_layers(self.torch, self.module)

    def close(self) -> None:
        """Restore every submodule's train/eval flag."""
        for module, training in self._modes:
            module.training = training
