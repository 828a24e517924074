"""nngrade's own image classifier: the yardstick generated images are judged by.

How good a VAE's or a GAN's samples are cannot be taken from the sandbox, nor from a
network downloaded from elsewhere (nothing is, here). So nngrade trains one itself, on
a dataset's official training images (28 x 28, one channel: Fashion-MNIST, MNIST), the
same way every time: fixed seeds, one thread,
deterministic kernels. Its penultimate layer (128 numbers) is the feature space of the
Fréchet distance (runner/instruments/sample_quality.py); its class predictions say
which classes the samples cover. The trained weights are cached with a record of their
SHA-256 and their accuracy on the official test set, and every report that uses them
names that checksum, so two gradings can be told to have used the same yardstick.

Training runs in a process of its own (``python -m runner.instruments.feature_network
DATASET``): torch's deterministic mode loads its compiler stack, which crashes a process
that has TensorFlow loaded, and a grader's process may have.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from runner.datasets.cache import cache_root
from runner.datasets.splits import load_official

EPOCHS = 2
BATCH = 128
SEED = 0
FEATURES = 128
RECIPE = f"conv32-conv64-dense{FEATURES}, Adam 1e-3, {EPOCHS} epochs of {BATCH}, seed {SEED}"
"""Changing any of these is a new network: it is part of the cache's name."""


class NetworkRecord(BaseModel):
    """What is known about a trained yardstick, kept beside its weights."""

    recipe: str
    sha256: str
    test_accuracy: float
    train_seconds: float


@dataclass
class FeatureNetwork:
    """The trained network and its record; :meth:`features` and :meth:`classes` run it."""

    model: object
    record: NetworkRecord

    def _logits_and_features(self, images: np.ndarray, batch: int = 1000):
        import torch

        model = self.model
        outs, feats = [], []
        with torch.no_grad():
            for start in range(0, len(images), batch):
                x = torch.from_numpy(_as_input(images[start:start + batch]))
                feature = model.features(x)
                feats.append(feature.numpy())
                outs.append(model.head(feature).numpy())
        return (np.concatenate(outs) if outs else np.zeros((0, 10), np.float32),
                np.concatenate(feats) if feats else np.zeros((0, FEATURES), np.float32))

    def read(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features and seen classes of the same images, from one pass of the network."""
        logits, features = self._logits_and_features(images)
        return features.astype(np.float64), logits.argmax(axis=1)

    def features(self, images: np.ndarray) -> np.ndarray:
        """(n, 128) features of (n, 28, 28) images scaled 0..255 (or 0..1 floats)."""
        return self.read(images)[0]

    def classes(self, images: np.ndarray) -> np.ndarray:
        """The class the network sees in each image."""
        return self.read(images)[1]


def unit_scale(images: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """Pixels on a 0..1 scale: integers and anything above 1.5 are read as 0..255."""
    x = np.asarray(images, dtype=dtype)
    if np.issubdtype(np.asarray(images).dtype, np.integer) or x.max(initial=0) > 1.5:
        x = x / dtype(255.0)
    return x


def _as_input(images: np.ndarray) -> np.ndarray:
    """(n, 1, 28, 28) float32 in 0..1, from uint8 0..255 or floats in 0..1."""
    return unit_scale(images, np.float32).reshape(len(images), 1, 28, 28)


def _build():
    import torch
    from torch import nn

    class Network(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(64 * 5 * 5, FEATURES), nn.ReLU())
            self.head = nn.Linear(FEATURES, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.features(x))

    return Network()


def _weights_bytes(model) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save({k: v.contiguous() for k, v in model.state_dict().items()}, buffer)
    return buffer.getvalue()


def _digest(model) -> str:
    """SHA-256 over the parameters' raw bytes, in order (independent of torch.save)."""
    digest = hashlib.sha256()
    for name, value in model.state_dict().items():
        digest.update(name.encode())
        digest.update(value.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def train(dataset: str, data_dir: Path | None = None) -> FeatureNetwork:
    """Train the network on ``dataset`` from scratch, deterministically."""
    import time

    import torch

    official = load_official(dataset, data_dir, allow_download=False)
    if official.train_x.shape[1:] not in ((28, 28), (28, 28, 1)):
        raise ValueError(f"{dataset}: images of shape {official.train_x.shape[1:]}; the "
                         "yardstick network takes 28 x 28 single-channel images")
    threads = torch.get_num_threads()
    started = time.perf_counter()
    try:
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
        torch.manual_seed(SEED)
        model = _build()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.from_numpy(_as_input(official.train_x))
        y = torch.from_numpy(official.train_y.astype(np.int64))
        order = np.random.default_rng(SEED)
        for _ in range(EPOCHS):
            for batch in np.array_split(order.permutation(len(x)), len(x) // BATCH):
                index = torch.from_numpy(batch)
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x[index]), y[index]).backward()
                optimizer.step()
        model.eval()
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)
    network = FeatureNetwork(model, NetworkRecord(recipe=RECIPE, sha256=_digest(model),
                                                  test_accuracy=0.0,
                                                  train_seconds=time.perf_counter() - started))
    accuracy = float(np.mean(network.classes(official.test_x) == official.test_y))
    network.record.test_accuracy = round(accuracy, 4)
    return network


def _cache_dir(dataset: str) -> Path:
    name = hashlib.sha256(RECIPE.encode()).hexdigest()[:12]
    return cache_root() / "instruments" / f"{dataset}-features-{name}"


def load(dataset: str, data_dir: Path | None = None) -> FeatureNetwork:
    """The cached network, trained first if there is none (or it does not match its
    record: a changed or damaged file is trained again, never trusted)."""
    cached = _cached(dataset)
    if cached is not None:
        return cached
    command = [sys.executable, "-m", "runner.instruments.feature_network", dataset]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    done = subprocess.run(command, capture_output=True, text=True)
    cached = _cached(dataset)
    if done.returncode or cached is None:
        raise RuntimeError(f"training the {dataset} feature network failed (exit code "
                           f"{done.returncode}): {done.stderr.strip()[-1000:]}")
    return cached


def _cached(dataset: str) -> FeatureNetwork | None:
    """The network in the cache when its weights match its record, else None."""
    import torch

    folder = _cache_dir(dataset)
    weights, record_file = folder / "weights.pt", folder / "record.json"
    if weights.is_file() and record_file.is_file():
        try:
            record = NetworkRecord.model_validate_json(record_file.read_text())
            model = _build()
            model.load_state_dict(torch.load(weights, weights_only=True))
        except Exception:  # a damaged file: trained again below
            pass
        else:
            model.eval()
            if _digest(model) == record.sha256:
                return FeatureNetwork(model, record)
    return None


def train_and_cache(dataset: str, data_dir: Path | None = None) -> NetworkRecord:
    """Train the network and write weights, then record, each whole or not at all."""
    network = train(dataset, data_dir)
    folder = _cache_dir(dataset)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (("weights.pt", _weights_bytes(network.model)),
                       ("record.json", json.dumps(network.record.model_dump(),
                                                  indent=1).encode())):
        partial = folder / f".{name}.part"
        partial.write_bytes(data)
        partial.replace(folder / name)
    return network.record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runner.instruments.feature_network",
        description="Train nngrade's yardstick network for a dataset and cache it.")
    parser.add_argument("dataset", help="a dataset of 28 x 28 single-channel images")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    record = train_and_cache(args.dataset, args.data_dir)
    print(f"{args.dataset}: sha256 {record.sha256}, test accuracy {record.test_accuracy}, "
          f"{record.train_seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
