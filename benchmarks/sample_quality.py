"""What the sample-quality instruments say about images of known quality.

Trains (or loads) nngrade's own Fashion-MNIST network, then measures against 2,000 real
official test images: 2,000 other real test images (the best a generator can do), the
same blurred (what a VAE's samples look like), with pixel noise, one image repeated
(mode collapse), uniform noise, and 2,000 copies of training images (memorisation).
Prints one row per kind: Fréchet distance, class coverage, median distance to the
nearest training image. Usage: ``python benchmarks/sample_quality.py``.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import ndimage

from runner.datasets.splits import load_official
from runner.instruments import feature_network
from runner.instruments.sample_quality import class_coverage, frechet_distance, nearest_distances

N = 2000


def main() -> None:
    started = time.perf_counter()
    network = feature_network.load("fashion_mnist")
    loaded = time.perf_counter() - started
    official = load_official("fashion_mnist", allow_download=False)
    rng = np.random.default_rng(0)
    reference, other = official.test_x[:N], official.test_x[N:2 * N]
    blurred = ndimage.gaussian_filter(other.astype(np.float64), sigma=(0, 1.2, 1.2))
    noisy = np.clip(other + rng.normal(0, 40, other.shape), 0, 255)
    kinds = {
        "real test images": other,
        "blurred (sigma 1.2 px)": blurred,
        "pixel noise (sd 40 of 255)": noisy,
        "one image repeated": np.repeat(other[:1], N, axis=0),
        "uniform noise": rng.integers(0, 256, other.shape),
        "training images (memorised)": official.train_x[rng.choice(len(official.train_x), N,
                                                                   replace=False)],
    }
    real = network.features(reference)
    print(f"network {network.record.sha256[:12]}: test accuracy "
          f"{network.record.test_accuracy:.4f}, trained in {network.record.train_seconds:.0f} s"
          f" (this run: {loaded:.1f} s to get it)")
    print(f"{'samples':30} {'Fréchet':>9} {'coverage':>9} {'nearest':>8}")
    for name, images in kinds.items():
        began = time.perf_counter()
        distance = frechet_distance(network.features(images), real)
        coverage = class_coverage(network, images)
        nearest = float(np.median(nearest_distances(images[:500], official.train_x)))
        print(f"{name:30} {distance:9.2f} {coverage:9.1f} {nearest:8.3f}"
              f"   ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
