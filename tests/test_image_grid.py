"""The grid of hidden images and masks a segmentation report shows: what each pixel's
colour means, and that the HTML report carries it inline, in the reader's language."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from runner.report.html import render_html
from runner.report.image_grid import (
    FALSE_MARK,
    GAP,
    MISSED,
    RIGHT,
    SCALE,
    SHOWN_IMAGES,
    reconstruction_grid,
    samples_grid,
    segmentation_grid,
)
from tests.test_report_render import autograd_report


def _pixels(png: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(png))).convert("RGB"))


def test_predicted_masks_are_coloured_by_agreement_with_the_truth():
    size = 8
    inputs = np.linspace(0, 1, 10 * size * size).reshape(10, size, size, 1)
    truth = np.zeros((10, size, size), np.int64)
    truth[:, :4] = 1  # the top half is the object
    predicted = np.zeros_like(truth)
    predicted[:, :2] = 1  # right in the top quarter, missed in the second
    predicted[:, 6:] = 1  # marked background in the bottom quarter
    grid = segmentation_grid(inputs, truth, predicted, "#0 unet")
    assert grid.rows == ["input", "truth", "predicted"] and grid.model == "#0 unet"
    image = _pixels(grid.png)
    cell = (size + GAP) * SCALE
    assert image.shape == (3 * cell - GAP * SCALE, SHOWN_IMAGES * cell - GAP * SCALE, 3)
    row = image[2 * cell:2 * cell + size * SCALE, :size * SCALE]  # first predicted mask
    assert tuple(row[0, 0]) == RIGHT
    assert tuple(row[3 * SCALE, 0]) == MISSED
    assert tuple(row[5 * SCALE, 0]) == (0, 0, 0)  # background left alone
    assert tuple(row[7 * SCALE, 0]) == FALSE_MARK
    true_mask = image[cell:cell + size * SCALE, :size * SCALE]
    assert tuple(true_mask[0, 0]) == RIGHT and tuple(true_mask[-1, 0]) == (0, 0, 0)


def test_the_html_report_shows_the_grid_inline_with_its_rows_explained_in_russian():
    truth = np.zeros((3, 4, 4), np.int64)
    grid = segmentation_grid(np.zeros((3, 4, 4)), truth, truth, "#1 <unet>")
    report = autograd_report().model_copy(update={"grids": [grid], "language": "ru"})
    html = render_html(report)
    assert f'src="data:image/png;base64,{grid.png}"' in html
    assert "Что выдала модель" in html and "скрытые изображения" in html
    assert "#1 &lt;unet&gt;" in html and "<unet>" not in html


def test_samples_are_drawn_as_they_are_two_rows_of_eight_and_reconstructions_below_inputs():
    faint = np.full((20, 6, 6), 40, np.uint8)  # a faint sample must stay faint
    grid = samples_grid(faint, "#1 generator")
    assert grid.key == "samples" and grid.rows == ["sample", "sample"]
    image = _pixels(grid.png)
    cell = (6 + GAP) * SCALE
    assert image.shape[:2] == (2 * cell - GAP * SCALE, SHOWN_IMAGES * cell - GAP * SCALE)
    assert tuple(image[0, 0]) == (40, 40, 40)
    hidden = np.zeros((8, 6, 6), np.uint8)
    rebuilt = np.full((8, 6, 6), 255, np.uint8)
    grid = reconstruction_grid(hidden, rebuilt, "#0 vae")
    assert grid.rows == ["input", "reconstruction"]
    image = _pixels(grid.png)
    assert tuple(image[0, 0]) == (0, 0, 0) and tuple(image[cell, 0]) == (255, 255, 255)
