"""Metrics on the host: values a person can check by hand, and their failure modes."""

from __future__ import annotations

import numpy as np
import pytest

from runner.metrics import (
    METRICS,
    TASK_METRICS,
    accuracy,
    compute_all,
    dice,
    iou,
    mae,
    mape,
    object_dice,
    object_iou,
    rmse,
)


def test_accuracy_counts_matching_labels():
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == 0.75


def test_regression_errors_match_their_definitions():
    predicted, target = np.array([110.0, 90.0, 100.0]), np.array([100.0, 100.0, 100.0])
    assert rmse(predicted, target) == pytest.approx(np.sqrt(200 / 3))
    assert mae(predicted, target) == pytest.approx(20 / 3)
    assert mape(predicted, target) == pytest.approx(100 * (0.1 + 0.1 + 0) / 3)


def test_mape_refuses_zero_targets_and_compute_all_leaves_it_out():
    with pytest.raises(ValueError, match="undefined"):
        mape(np.array([1.0]), np.array([0.0]))
    values = compute_all("forecasting", np.array([1.0, 2.0]), np.array([0.0, 2.0]))
    assert set(values) == {"rmse", "mae"}


def test_iou_and_dice_average_over_classes_present():
    target = np.array([[0, 0, 1, 1]])
    predicted = np.array([[0, 1, 1, 1]])
    # class 0: intersection 1, union 2; class 1: intersection 2, union 3
    assert iou(predicted, target) == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert dice(predicted, target) == pytest.approx((2 * 1 / 3 + 2 * 2 / 5) / 2)
    assert iou(target, target) == dice(target, target) == 1.0


def test_object_iou_leaves_the_background_out_so_marking_nothing_earns_nothing():
    target = np.zeros((2, 4, 4), np.int64)
    target[:, :2, :2] = 1  # a quarter of the pixels are the object
    nothing = np.zeros_like(target)
    assert iou(nothing, target) == pytest.approx(0.75 / 2)  # background alone gives half
    assert object_iou(nothing, target) == 0.0 and object_dice(nothing, target) == 0.0
    everything = np.ones_like(target)
    assert object_iou(everything, target) == pytest.approx(0.25)
    assert object_dice(everything, target) == pytest.approx(2 * 0.25 / 1.25)
    assert object_iou(target, target) == 1.0


def test_segmentation_reports_every_overlap_metric_and_pixel_accuracy():
    target = np.array([[[0, 1], [1, 1]]])
    values = compute_all("segmentation", np.array([[[0, 1], [0, 1]]]), target)
    assert values == {"object_iou": pytest.approx(2 / 3), "object_dice": pytest.approx(0.8),
                      "iou": pytest.approx((1 / 2 + 2 / 3) / 2),
                      "dice": pytest.approx((2 / 3 + 0.8) / 2), "accuracy": 0.75}


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="shape"):
        rmse(np.zeros(3), np.zeros(4))


def test_every_task_metric_is_known_and_says_which_way_is_better():
    for names in TASK_METRICS.values():
        assert set(names) <= set(METRICS)
    assert METRICS["accuracy"].higher_is_better and not METRICS["rmse"].higher_is_better
