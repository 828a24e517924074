"""How hard the generated segmentation task is: a threshold against a small U-Net.

Draws 1,500 training and 300 hidden images of ``textured_shapes`` (datasets/), finds the
global brightness threshold (either direction) with the best IoU on the hidden images,
and trains a two-level U-Net (8 and 16 channels, one skip) with Adam, printing its IoU
after each epoch: the object class's IoU, and the mean over both classes that
``runner.metrics.iou`` computes. Usage: ``python benchmarks/segmentation_baselines.py``.
tests/test_synthetic_segmentation.py asserts the same two facts with these functions.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from runner.datasets import get_spec
from runner.datasets.generated import draw
from runner.metrics import iou, object_iou


def best_threshold(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The masks of the global brightness threshold (above or below) with the best IoU."""
    best, best_iou = None, -1.0
    for level in np.linspace(0, 1, 101):
        for predicted in (images[..., 0] > level, images[..., 0] < level):
            score = object_iou(predicted.astype(np.int64), masks)
            if score > best_iou:
                best, best_iou = predicted.astype(np.int64), score
    return best


def train_unet(x: np.ndarray, y: np.ndarray, hidden_x: np.ndarray, epochs: int,
               seed: int = 0) -> Iterator[np.ndarray]:
    """Train a two-level U-Net; after each epoch, its masks of ``hidden_x``."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class UNet(nn.Module):
        def __init__(self, width: int = 8) -> None:
            super().__init__()
            self.enc1 = nn.Conv2d(1, width, 3, padding=1)
            self.enc2 = nn.Conv2d(width, 2 * width, 3, padding=1)
            self.bottom = nn.Conv2d(2 * width, 2 * width, 3, padding=1)
            self.up = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
            self.dec = nn.Conv2d(2 * width, width, 3, padding=1)
            self.out = nn.Conv2d(width, 2, 1)

        def forward(self, batch: torch.Tensor) -> torch.Tensor:
            e1 = F.relu(self.enc1(batch))
            bottom = F.relu(self.bottom(F.relu(self.enc2(F.max_pool2d(e1, 2)))))
            return self.out(F.relu(self.dec(torch.cat([self.up(bottom), e1], 1))))

    torch.manual_seed(seed)
    model = UNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    images = torch.from_numpy(x).permute(0, 3, 1, 2)
    masks = torch.from_numpy(y)
    hidden = torch.from_numpy(hidden_x).permute(0, 3, 1, 2)
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), 32):
            index = order[start:start + 32]
            optimizer.zero_grad()
            F.cross_entropy(model(images[index]), masks[index]).backward()
            optimizer.step()
        with torch.no_grad():
            yield model(hidden).argmax(1).numpy()


def main() -> None:
    spec = get_spec("textured_shapes")
    x, y = draw(spec, 1500, 0)
    hidden_x, hidden_y = draw(spec, 300, 1)
    print(f"object share of the hidden pixels: {hidden_y.mean():.3f}")
    everything = np.ones_like(hidden_y)
    print(f"'object' everywhere: object IoU {object_iou(everything, hidden_y):.3f}, "
          f"mean IoU {iou(everything, hidden_y):.3f}")
    masks = best_threshold(hidden_x, hidden_y)
    print(f"best global threshold: object IoU {object_iou(masks, hidden_y):.3f}, "
          f"mean IoU {iou(masks, hidden_y):.3f}")
    started = time.perf_counter()
    for epoch, predicted in enumerate(train_unet(x, y, hidden_x, epochs=6), start=1):
        print(f"U-Net after epoch {epoch}: object IoU {object_iou(predicted, hidden_y):.3f}, "
              f"mean IoU {iou(predicted, hidden_y):.3f} "
              f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
