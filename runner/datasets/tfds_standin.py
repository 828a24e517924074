"""A generated stand-in for a segmentation dataset that tensorflow_datasets prepares.

Written as tfds writes the real one (a ``<name>/<version>`` folder with
``dataset_info.json``, ``features.json``, label files and TFRecord shards of
``tf.train.Example`` records with a JPEG photo, a PNG mask, a file name, the class
labels and boxes), so an unmodified ``tfds.load`` reads it. Each photo is a textured
blob (the "pet") on a textured field of another colour, at a size between 96 and 160
pixels a side; its mask marks the blob, the field, and a band two pixels wide on
the blob's outline (the Oxford trimaps' "not classified" border), counted from the
dataset file's ``mask_offset``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from runner.datasets.registry import DatasetSpec, TfdsPrepared
from runner.datasets.tfds_prepared import write_prepared
from runner.datasets.tfrecord import encode_example

BORDER = 2  # pixels on each side of the outline


def _texture(rows: np.ndarray, cols: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    angle, frequency = rng.uniform(0, np.pi), rng.uniform(0.08, 0.3)
    return np.cos(2 * np.pi * frequency * (np.cos(angle) * cols + np.sin(angle) * rows))


def draw_photo(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    """One photo (H, W, 3) uint8, its mask (H, W) of 0 blob, 1 field, 2 border, and the
    blob's box as (ymin, xmin, ymax, xmax) fractions of the photo."""
    height, width = (int(v) for v in rng.integers(96, 161, 2))
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    cy, cx = rng.uniform(0.35, 0.65) * height, rng.uniform(0.35, 0.65) * width
    ry, rx = rng.uniform(0.18, 0.35) * height, rng.uniform(0.18, 0.35) * width
    radius = np.sqrt(((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2)
    distance = (radius - 1) * min(ry, rx)  # about the pixels to the outline
    blob, field = rng.uniform(40, 215, 3), rng.uniform(40, 215, 3)
    inside = (distance < 0)[..., None]
    texture = np.where(inside, _texture(rows, cols, rng)[..., None] * 35,
                       _texture(rows, cols, rng)[..., None] * 25)
    photo = np.where(inside, blob, field) + texture + rng.normal(0, 12, (height, width, 3))
    mask = np.where(np.abs(distance) <= BORDER, 2, np.where(distance < 0, 0, 1))
    box = (max(0.0, (cy - ry) / height), max(0.0, (cx - rx) / width),
           min(1.0, (cy + ry) / height), min(1.0, (cx + rx) / width))
    return np.clip(np.rint(photo), 0, 255).astype(np.uint8), mask.astype(np.uint8), box


def _encoded(array: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _record(tfds: TfdsPrepared, index: int, rng: np.random.Generator) -> bytes:
    photo, mask, box = draw_photo(rng)
    labels = {feature: int(rng.integers(len(names))) for feature, names in tfds.labels.items()}
    first = next(iter(tfds.labels.items()), None)
    stem = first[1][labels[first[0]]] if first else tfds.name
    features: dict = {
        "image": _encoded(photo, "JPEG"),
        "segmentation_mask": _encoded((mask + tfds.mask_offset).astype(np.uint8), "PNG"),
        "file_name": f"{stem}_{index}.jpg",
        **labels,
        **{name: [float(v) for v in box] for name in tfds.boxes},
    }
    return encode_example(features)


def _features_json(tfds: TfdsPrepared) -> dict:
    """``features.json`` as tfds writes it for these features."""
    package = "tensorflow_datasets.core.features"

    def image(channels: int, colormap: bool) -> dict:
        shape = {"dimensions": ["-1", "-1", str(channels)]}
        return {"image": {"dtype": "uint8", "shape": shape, **({"useColormap": True}
                                                                if colormap else {})},
                "pythonClassName": f"{package}.image_feature.Image"}

    features = {
        "file_name": {"pythonClassName": f"{package}.text_feature.Text", "text": {}},
        "image": image(3, False),
        "segmentation_mask": image(1, True),
        **{name: {"classLabel": {"numClasses": str(len(names))},
                  "pythonClassName": f"{package}.class_label_feature.ClassLabel"}
           for name, names in tfds.labels.items()},
        **{name: {"boundingBox": {"bboxFormat": "REL_YXYX", "dtype": "float32",
                                  "shape": {"dimensions": ["4"]}},
                  "pythonClassName": f"{package}.bounding_boxes.BBoxFeature"}
           for name in tfds.boxes},
    }
    return {"featuresDict": {"features": dict(sorted(features.items()))},
            "pythonClassName": f"{package}.features_dict.FeaturesDict"}


def write_tfds_standin(spec: DatasetSpec, root: Path, sizes: dict[str, int],
                       seed: int) -> Path:
    """Write the prepared folder under the tfds ``data_dir`` ``root``; the folder."""
    tfds = spec.tfds
    assert tfds is not None
    rng = np.random.default_rng(seed)
    offset = 0
    splits = {}
    for name, count in sizes.items():
        splits[name] = [_record(tfds, offset + i, rng) for i in range(count)]
        offset += count
    folder = root / tfds.name / tfds.version
    info = {"name": tfds.name, "version": tfds.version,
            "description": f"A generated stand-in for {spec.title}, written by nngrade."}
    write_prepared(folder, info, _features_json(tfds), splits, tfds.labels)
    return folder
