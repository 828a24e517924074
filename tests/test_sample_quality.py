"""nngrade's own yardstick for generated images, on real Fashion-MNIST: the same network
every time, and measurements that tell real images from blurred, collapsed or copied ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from runner.datasets.splits import load_official
from runner.instruments import feature_network
from runner.instruments.sample_quality import (
    class_coverage,
    frechet_distance,
    judge_samples,
    nearest_distances,
)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Fashion-MNIST files not installed (apt-get install dataset-fashion-mnist)")]
N = 1000


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def network(cache: Path) -> feature_network.FeatureNetwork:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NNGRADE_CACHE_DIR", str(cache))
        return feature_network.load("fashion_mnist")


@pytest.fixture(scope="module")
def official():
    return load_official("fashion_mnist", allow_download=False)


def test_the_network_is_a_good_classifier_and_its_record_names_it(network) -> None:
    assert network.record.test_accuracy > 0.85
    assert len(network.record.sha256) == 64 and network.record.recipe == feature_network.RECIPE


def test_a_damaged_cache_is_trained_again_into_the_same_network(network, cache, monkeypatch
                                                                ) -> None:
    monkeypatch.setenv("NNGRADE_CACHE_DIR", str(cache))
    (weights,) = cache.glob("instruments/fashion_mnist-features-*/weights.pt")
    weights.write_bytes(b"not a network")
    again = feature_network.load("fashion_mnist")
    assert again.record.sha256 == network.record.sha256  # deterministic, bit for bit
    assert feature_network.load("fashion_mnist").record == again.record  # now from the cache


def test_real_images_are_near_and_blurred_ones_far(network, official) -> None:
    real = network.features(official.test_x[:N])
    other = official.test_x[N:2 * N]
    blurred = ndimage.gaussian_filter(other.astype(np.float64), sigma=(0, 1.2, 1.2))
    near = frechet_distance(network.features(other), real)
    far = frechet_distance(network.features(blurred), real)
    assert near < 5 < 50 < far


def test_one_image_repeated_covers_one_class_of_ten(network, official) -> None:
    assert class_coverage(network, official.test_x[:N]) == 1.0
    assert class_coverage(network, np.repeat(official.test_x[:1], N, axis=0)) == 0.1


def test_copies_of_training_images_are_caught_however_real_they_look(network, official
                                                                      ) -> None:
    copies = official.train_x[::60][:N]
    assert frechet_distance(network.features(copies), network.features(official.test_x[:N])) < 5
    # below a quarter of one grey level (1/255): the same pixels, up to rounding
    assert np.all(nearest_distances(copies[:200], official.train_x) < 0.001)
    fresh = nearest_distances(official.test_x[:200], official.train_x)
    assert np.median(fresh) > 0.05  # unseen images are not in the training set


def test_one_judgement_tells_real_samples_from_copies_and_from_a_collapsed_generator(
        network, official) -> None:
    reference = network.features(official.test_x[:N])
    training = official.train_x[:20000]
    real = judge_samples(network, official.test_x[N:2 * N], reference, training)
    assert real.frechet < 5 and real.coverage == 1.0 and real.memorised < 0.01
    copied = judge_samples(network, training[::20], reference, training)
    assert copied.memorised == 1.0  # however real they look
    collapsed = judge_samples(network, np.repeat(official.test_x[N:N + 1], 500, axis=0),
                              reference, training)
    assert collapsed.coverage == 0.1 and collapsed.frechet > 50
