"""The probe's input-format search, on models that are plain functions of their input.

No framework is needed to check the search itself: each "model" below computes
the right answer only when fed the way its student trained it.
"""

from __future__ import annotations

import numpy as np
import pytest

from runner.i18n.render import render
from runner.input_words import describe_input
from runner.measurements import InputFormat
from runner.probe.feeding import DataFacts, choose, classes
from runner.probe.state import InputStats

RNG = np.random.default_rng(0)


def _tabular(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """Two features on very different scales; the class is a disc in standardised units."""
    x = np.stack([RNG.normal(5, 10, n), RNG.normal(-3, 0.1, n)], axis=1).astype(np.float32)
    z = (x - x.mean(0)) / x.std(0)
    return x, (z[:, 0] ** 2 + z[:, 1] ** 2 < 1).astype(np.int64)


def _standardised_logit(mean: np.ndarray, std: np.ndarray):
    def predict(batch: np.ndarray) -> np.ndarray:
        z = (batch - mean) / std
        return (1 - (z[:, 0] ** 2 + z[:, 1] ** 2))[:, None]  # one logit column

    return predict


def test_per_feature_standardisation_is_found_without_training_statistics():
    x, y = _tabular()
    model = _standardised_logit(x.mean(0), x.std(0))
    fmt = choose(model, x, y, 2, None, None)
    assert fmt.decision == "threshold 0"
    assert fmt.accuracy == pytest.approx(1.0, abs=0.01)
    assert np.mean(classes(model, x, fmt) == y) > 0.99


def test_recorded_per_feature_moments_win_and_are_named_as_the_source():
    """The student fed u = 2 z + 0.5 (z standardised per feature); the probe saw that."""
    x, y = _tabular()

    def model(u: np.ndarray) -> np.ndarray:
        z = (u - 0.5) / 2
        return (1 - (z[:, 0] ** 2 + z[:, 1] ** 2))[:, None]

    stats = InputStats(shape=(2,), mean=0.5, std=2.0,
                       feature_mean=(0.5, 0.5), feature_std=(2.0, 2.0))
    fmt = choose(model, x, y, 2, stats, None)
    assert fmt.source == "training-data" and fmt.decision == "threshold 0"
    assert fmt.accuracy > 0.99
    assert np.allclose(fmt.scale, 2 / x.std(0), rtol=1e-4)


def test_a_sigmoid_output_is_read_with_threshold_one_half():
    x, y = _tabular()
    logit = _standardised_logit(x.mean(0), x.std(0))

    def probability(batch: np.ndarray) -> np.ndarray:
        return 0.5 * (1 + np.tanh(2 * logit(batch)))

    fmt = choose(probability, x, y, 2, None, None)
    assert fmt.decision == "threshold 0.5" and fmt.as_json()["threshold"] == 0.5


def test_one_output_per_class_is_read_by_argmax_and_other_widths_are_refused():
    x, y = _tabular()
    logit = _standardised_logit(x.mean(0), x.std(0))
    fmt = choose(lambda b: np.concatenate([-logit(b), logit(b)], axis=1), x, y, 2, None, None)
    assert fmt.decision == "argmax"
    with pytest.raises(ValueError, match="3 outputs per sample; the task has 2 classes"):
        choose(lambda b: np.zeros((len(b), 3)), x, y, 2, None, None)


def test_colour_images_reach_a_channels_first_model_in_channel_order():
    """NHWC storage, NCHW model: a transpose, not a reshape, or the channels are scrambled."""
    n = 300
    y = RNG.integers(0, 3, n)
    images = RNG.integers(0, 100, (n, 8, 8, 3)).astype(np.uint8)
    images[np.arange(n), :, :, y] += 120  # the class is the brightest channel

    def channels_first(batch: np.ndarray) -> np.ndarray:
        if batch.shape[1:] != (3, 8, 8):
            raise ValueError(f"expected (N, 3, 8, 8), got {batch.shape}")
        return batch.mean(axis=(2, 3))

    facts = DataFacts(value_range=(0, 255))
    fmt = choose(channels_first, images, y, 3, None, None, facts)
    assert fmt.layout.transpose == (2, 0, 1) and fmt.shape == (3, 8, 8)
    assert fmt.accuracy == 1.0


def test_dataset_normalisations_are_candidates_per_channel():
    n = 200
    y = RNG.integers(0, 2, n)
    images = RNG.integers(0, 256, (n, 4, 4, 3)).astype(np.uint8)
    mean, std = np.array([0.2, 0.5, 0.8]), np.array([0.1, 0.2, 0.3])
    z_images = (images / 255 - mean) / std
    threshold = np.median(z_images[..., 2].mean(axis=(1, 2)))
    y = (z_images[..., 2].mean(axis=(1, 2)) > threshold).astype(np.int64)

    def model(batch: np.ndarray) -> np.ndarray:  # trained on (x/255 - mean) / std, NHWC
        return (batch[..., 2].mean(axis=(1, 2)) - threshold)[:, None]

    facts = DataFacts(value_range=(0, 255), normalizations=((tuple(mean), tuple(std)),))
    fmt = choose(model, images, y, 2, InputStats(shape=(4, 4, 3)), None, facts)
    assert fmt.accuracy == 1.0
    assert np.allclose(fmt.scale, 1 / (255 * std)) and np.allclose(fmt.shift, -mean / std)


def _striped_masks(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Images whose object pixels are brighter than 100 of 255; the mask says where."""
    images = RNG.integers(0, 90, (n, 6, 6, 1)).astype(np.uint8)
    masks = RNG.integers(0, 2, (n, 6, 6))
    images[..., 0][masks == 1] += 120
    return images, masks


def _pixel_logits(batch: np.ndarray) -> np.ndarray:
    """Logit of "object" per pixel of (n, 1, 6, 6) inputs scaled to 0..1."""
    if batch.shape[1:] != (1, 6, 6):
        raise ValueError(f"expected (N, 1, 6, 6), got {batch.shape}")
    return batch[:, 0] - 100 / 255


@pytest.mark.parametrize("arrange, decision", [
    (lambda logit: logit, "threshold 0"),  # one map (n, H, W)
    (lambda logit: np.stack([-logit, logit], axis=1), "argmax"),  # classes first (torch)
    (lambda logit: np.stack([-logit, logit], axis=-1), "argmax"),  # classes last (Keras)
    (lambda logit: 1 / (1 + np.exp(-50 * logit[..., None])), "threshold 0.5"),  # a sigmoid map
])
def test_every_pixel_is_read_whichever_axis_holds_the_classes(arrange, decision):
    images, masks = _striped_masks()
    model = lambda batch: arrange(_pixel_logits(batch))  # noqa: E731
    fmt = choose(model, images, masks, 2, None, None, DataFacts(value_range=(0, 255)),
                 pixels=(6, 6))
    assert fmt.decision == decision and fmt.shape == (1, 6, 6)
    assert fmt.accuracy == 1.0
    predicted = classes(model, images, fmt, (6, 6))
    assert predicted.shape == masks.shape and predicted.dtype == np.uint8
    assert np.array_equal(predicted, masks)


def test_an_output_that_is_not_a_mask_of_the_images_size_is_refused_in_words():
    images, masks = _striped_masks(10)
    with pytest.raises(ValueError, match=r"a mask of 6x6 pixels needs \(6, 6\)"):
        choose(lambda batch: np.zeros((len(batch), 3, 3)), images, masks, 2, None, None,
               DataFacts(value_range=(0, 255)), pixels=(6, 6))


def test_the_report_words_for_a_threshold_come_from_the_recorded_number():
    fmt = InputFormat(shape=[2], scale=1.0, shift=0.0, source="calibrated",
                      decision="threshold 0.5", threshold=0.5)
    assert render(describe_input(fmt), "en").endswith("class by threshold 0.5")
    assert "порог" in render(describe_input(fmt), "ru")
    unknown = fmt.model_copy(update={"threshold": None, "decision": "median vote"})
    assert render(describe_input(unknown), "en").endswith("median vote")
