"""How good generated images are, measured with nngrade's own network only.

- **Fréchet distance** between the features (runner/instruments/feature_network.py) of
  the samples and of real held-out images: the distance between two Gaussians fitted to
  them, ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^1/2)``. 0 for the same
  distribution; it grows with blur, noise and missing variety. Its units are squared
  feature units of that network, so values compare only under one network (its SHA-256
  is in the report).
- **Class coverage**: the share of classes the network sees in at least a tenth of a
  uniform share of the samples, so ten samples of one shirt cover 1 class of 10.
- **Memorisation**: for each sample, the distance to the nearest public training image
  (root mean square over pixels in 0..1); a "generator" that returns training images
  has distances of 0 and earns no quality points however good its Fréchet distance is.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from runner.instruments.feature_network import FeatureNetwork, unit_scale

COVERAGE_SHARE = 0.1
"""A class counts as covered when it gets this share of a uniform share of the samples."""
MEMORISED_DISTANCE = 0.01
"""A sample this close (RMS, 0..1 scale) to a training image is a copy of it: copies
measure below 0.001, unseen test images about 0.1 from their nearest training image."""


REGULARISATION = 1e-6
"""Added to each covariance's diagonal: features a ReLU never lets through (or a sample
set without variety) make them singular, and the square root is then ill-defined."""


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature rows ``a`` and ``b``."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    offset = np.eye(a.shape[1]) * REGULARISATION
    cov_a, cov_b = np.cov(a, rowvar=False) + offset, np.cov(b, rowvar=False) + offset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the regularised product is checked below
        root = np.real(linalg.sqrtm(cov_a @ cov_b))
    if not np.all(np.isfinite(root)):
        raise ValueError("the features' covariances have no usable square root")
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * root))


def class_coverage(network: FeatureNetwork, images: np.ndarray, classes: int = 10) -> float:
    """Share of the ``classes`` that the network sees often enough among ``images``."""
    return coverage_of(network.classes(images), classes)


def coverage_of(seen: np.ndarray, classes: int = 10) -> float:
    """Share of the ``classes`` among the class ids ``seen`` that each get at least
    ``COVERAGE_SHARE`` of a uniform share."""
    counts = np.bincount(seen, minlength=classes)[:classes]
    return float(np.mean(counts >= COVERAGE_SHARE * len(seen) / classes))


@dataclass(frozen=True)
class SampleQuality:
    """How a generator's samples compare with real images, in nngrade's own terms."""

    frechet: float  # to the reference images' features; real images get about 1
    coverage: float  # share of the classes the samples show often enough
    memorised: float  # share of the samples that are copies of a training image


def judge_samples(network: FeatureNetwork, samples: np.ndarray, reference: np.ndarray,
                  training: np.ndarray, classes: int = 10) -> SampleQuality:
    """``samples`` judged against the features of ``reference`` images (hidden ones) and
    the ``training`` images a generator could have copied."""
    features, seen = network.read(samples)
    copied = nearest_distances(samples, training) < MEMORISED_DISTANCE
    return SampleQuality(frechet_distance(features, reference),
                         coverage_of(seen, classes), float(np.mean(copied)))


def nearest_distances(samples: np.ndarray, training: np.ndarray, chunk: int = 256
                      ) -> np.ndarray:
    """Per sample: RMS pixel distance (0..1 scale) to its nearest training image.

    In float32, twice as fast as float64: its rounding moves a distance by about 2e-4,
    far below ``MEMORISED_DISTANCE``."""
    flat_train = unit_scale(training, np.float32).reshape(len(training), -1)
    train_sq = np.einsum("ij,ij->i", flat_train, flat_train)
    flat = unit_scale(samples, np.float32).reshape(len(samples), -1)
    found = np.empty(len(flat))
    for start in range(0, len(flat), chunk):
        part = flat[start:start + chunk]
        squared = (np.einsum("ij,ij->i", part, part)[:, None] + train_sq[None, :]
                   - 2 * part @ flat_train.T)
        found[start:start + chunk] = np.sqrt(np.maximum(squared.min(axis=1), 0)
                                             / flat.shape[1])
    return found
