"""Similar submissions: disguised copies are flagged, independent work and starter code are not."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from runner.batch.similarity import (
    CELL_MARKER,
    K,
    SimilarPair,
    fingerprints,
    notebook_code,
    similar_pairs,
)
from tests.notebooks import write_notebook

ROOT = Path(__file__).resolve().parents[1]

# A typical solution of "train a CNN on MNIST": data, model, training, evaluation.
ORIGINAL = (
    """\
!pip install torchvision
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as transforms
from torch.utils.data import DataLoader

# Normalise MNIST to zero mean and unit variance
transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train_set = torchvision.datasets.MNIST("data", train=True, download=True, transform=transform)
test_set = torchvision.datasets.MNIST("data", train=False, download=True, transform=transform)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
test_loader = DataLoader(test_set, batch_size=256)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
""",
    """\
class ConvNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))  # 28 -> 14
        x = self.pool(F.relu(self.conv2(x)))  # 14 -> 7
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)
""",
    """\
model = ConvNet().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()


def train_epoch(model, loader):
    model.train()
    total_loss = 0.0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * images.size(0)
    return total_loss / len(loader.dataset)


for epoch in range(5):
    print(f"epoch {epoch}: loss {train_epoch(model, train_loader):.4f}")
""",
    """\
@torch.no_grad()
def evaluate(model, loader):
    # fraction of correctly classified test images
    model.eval()
    correct = 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        predictions = model(images).argmax(dim=1)
        correct += (predictions == labels).sum().item()
    return correct / len(loader.dataset)
""",
    'print("test accuracy:", evaluate(model, test_loader))',
)

# The same, disguised: every name changed, comments reworded, constants tweaked, a debugging
# line added, the evaluation cell moved up (still runs top to bottom).
DISGUISED = (
    """\
%matplotlib inline
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as transforms
from torch.utils.data import DataLoader

prep = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.13,), (0.31,))])
ds_train = torchvision.datasets.MNIST("./mnist", train=True, download=True, transform=prep)
ds_test = torchvision.datasets.MNIST("./mnist", train=False, download=True, transform=prep)
dl_train = DataLoader(ds_train, batch_size=128, shuffle=True)
dl_test = DataLoader(ds_test, batch_size=500)
dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
""",
    """\
@torch.no_grad()
def accuracy_of(net, batches):
    # how often the network is right
    net.eval()
    right = 0
    for inputs, targets in batches:
        inputs, targets = inputs.to(dev), targets.to(dev)
        guesses = net(inputs).argmax(dim=1)
        right += (guesses == targets).sum().item()
    return right / len(batches.dataset)
""",
    """\
class MyCnn(nn.Module):
    def __init__(self, n_out=10):
        super().__init__()
        self.first = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.second = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.shrink = nn.MaxPool2d(2)
        self.drop = nn.Dropout(0.3)
        self.hidden = nn.Linear(32 * 7 * 7, 100)
        self.head = nn.Linear(100, n_out)

    def forward(self, t):
        t = self.shrink(F.relu(self.first(t)))
        t = self.shrink(F.relu(self.second(t)))
        t = torch.flatten(t, 1)
        t = self.drop(F.relu(self.hidden(t)))
        return self.head(t)
""",
    """\
net = MyCnn().to(dev)
print(net)
opt = torch.optim.Adam(net.parameters(), lr=0.002)
loss_function = nn.CrossEntropyLoss()


def one_epoch(net, batches):
    net.train()
    running = 0.0
    for inputs, targets in batches:
        inputs, targets = inputs.to(dev), targets.to(dev)
        opt.zero_grad()
        loss = loss_function(net(inputs), targets)
        loss.backward()
        opt.step()
        running += loss.item() * inputs.size(0)
    return running / len(batches.dataset)


for ep in range(3):
    print(f"epoch {ep}, mean loss = {one_epoch(net, dl_train):.3f}")
""",
    'print("accuracy on test:", accuracy_of(net, dl_test))',
)

# The same task solved independently: nn.Sequential, SGD, another loop and evaluation.
INDEPENDENT = (
    """\
import torch
from torch import nn, optim
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

tfm = transforms.ToTensor()
train_data = datasets.MNIST(root="./mnist", train=True, download=True, transform=tfm)
test_data = datasets.MNIST(root="./mnist", train=False, download=True, transform=tfm)
train_dl = DataLoader(train_data, batch_size=128, shuffle=True)
test_dl = DataLoader(test_data, batch_size=1000)
""",
    """\
net = nn.Sequential(
    nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 4 * 4, 10),
)
opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
""",
    """\
history = []
for epoch in range(3):
    net.train()
    for step, (xb, yb) in enumerate(train_dl):
        out = net(xb)
        loss = loss_fn(out, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            history.append(loss.item())
    print(epoch, history[-1])
""",
    """\
net.eval()
hits = total = 0
with torch.no_grad():
    for xb, yb in test_dl:
        hits += (net(xb).argmax(1) == yb).sum().item()
        total += len(yb)
print(f"accuracy {hits / total:.3f}")
""",
)

# Starter code the course hands out: every student's notebook begins with it.
STARTER = """\
import random

import numpy as np
import matplotlib.pyplot as plt
import torch
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms


def set_seed(seed=42):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def plot_history(history, title="Training"):
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].plot(history["loss"], label="train")
    ax[0].plot(history["val_loss"], label="validation")
    ax[0].set_title(f"{title}: loss")
    ax[1].plot(history["accuracy"], label="train")
    ax[1].plot(history["val_accuracy"], label="validation")
    ax[1].set_title(f"{title}: accuracy")
    for axis in ax:
        axis.set_xlabel("epoch")
        axis.legend()
    plt.show()


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def show_samples(dataset, rows=2, cols=8):
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.5, rows * 1.5))
    for axis, index in zip(axes.flat, np.random.choice(len(dataset), rows * cols)):
        image, label = dataset[index]
        axis.imshow(image.squeeze(), cmap="gray")
        axis.set_title(dataset.classes[label])
        axis.axis("off")
    plt.tight_layout()


@torch.no_grad()
def evaluate(model, loader, device="cpu"):
    # Accuracy of a PyTorch model: do not change, the grader calls it.
    model.eval()
    correct = total = 0
    for images, labels in loader:
        predictions = model(images.to(device)).argmax(dim=1).cpu()
        correct += (predictions == labels).sum().item()
        total += labels.numel()
    return correct / total


set_seed()
full = datasets.FashionMNIST("data", train=True, download=True, transform=transforms.ToTensor())
train_part, val_part = random_split(full, [50000, 10000])
train_loader = DataLoader(train_part, batch_size=64, shuffle=True)
val_loader = DataLoader(val_part, batch_size=256)
"""

# Five different solutions written below the starter code.
SOLUTIONS = {
    "anna": ORIGINAL[1] + ORIGINAL[2],
    "boris": INDEPENDENT[1] + INDEPENDENT[2],
    "clara": """\
weights = torch.randn(784, 10, requires_grad=True)
bias = torch.zeros(10, requires_grad=True)
for epoch in range(10):
    for xb, yb in train_loader:
        logits = xb.view(-1, 784) @ weights + bias
        loss = torch.nn.functional.cross_entropy(logits, yb)
        loss.backward()
        with torch.no_grad():
            weights -= 0.1 * weights.grad
            bias -= 0.1 * bias.grad
            weights.grad.zero_()
            bias.grad.zero_()
""",
    "dmitry": """\
from tensorflow import keras
x = np.stack([np.asarray(img).squeeze() for img, _ in train_part])
y = np.array([label for _, label in train_part])
mlp = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                        keras.layers.Dense(256, activation="relu"),
                        keras.layers.Dropout(0.2),
                        keras.layers.Dense(10, activation="softmax")])
mlp.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
fitted = mlp.fit(x, y, epochs=5, validation_split=0.1, verbose=2)
plot_history(fitted.history, "Keras MLP")
""",
    "elena": """\
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report
features = np.stack([img.numpy().ravel() for img, _ in train_part][:5000])
targets = np.array([label for _, label in train_part][:5000])
clf = LogisticRegression(max_iter=200, C=0.5).fit(features[:4000], targets[:4000])
print(classification_report(targets[4000:], clf.predict(features[4000:])))
""",
}


def _code(tmp_path: Path, name: str, *cells: str) -> str:
    return notebook_code(write_notebook(tmp_path / f"{name}.ipynb", *cells))


def _score(pairs: list[SimilarPair], first: str, second: str) -> float | None:
    return next((p.score for p in pairs if (p.first, p.second) == (first, second)), None)


def test_notebook_code_keeps_code_cells_and_drops_magics(tmp_path: Path) -> None:
    code = _code(tmp_path, "s", "!pip install torch\nimport torch\n  %time x = 1", "y = 2")
    assert code == f"import torch\n{CELL_MARKER}\ny = 2"  # markdown cell and magics gone


def test_disguised_copy_is_flagged_with_a_high_score(tmp_path: Path) -> None:
    codes = {"ivanov": _code(tmp_path, "ivanov", *ORIGINAL),
             "petrov": _code(tmp_path, "petrov", *DISGUISED)}
    pairs = similar_pairs(codes)
    assert len(pairs) == 1
    pair = pairs[0]
    assert (pair.first, pair.second) == ("ivanov", "petrov")
    assert pair.score >= 0.8
    assert pair.shared_fingerprints >= 30


def test_renaming_and_reordering_alone_change_nothing() -> None:
    renamed = {"model": "m", "optimizer": "o", "criterion": "c", "images": "a", "labels": "b",
               "loader": "d", "train_epoch": "run_epoch", "total_loss": "acc", "ConvNet": "Net",
               "conv1": "k1", "conv2": "k2", "fc1": "l1", "fc2": "l2", "pool": "p"}
    original = ORIGINAL[1] + "\n" + ORIGINAL[2]
    copy = original
    for old, new in renamed.items():
        copy = copy.replace(old, new)
    assert copy != original
    assert fingerprints(copy) == fingerprints(original)
    cells = [ORIGINAL[0], ORIGINAL[1], ORIGINAL[2]]
    assert (fingerprints(CELL_MARKER.join(f"\n{c}\n" for c in cells))
            == fingerprints(CELL_MARKER.join(f"\n{c}\n" for c in reversed(cells))))
    # but the library calls are kept: another optimiser is another fingerprint set
    assert fingerprints(original.replace("Adam", "SGD")) != fingerprints(original)


def test_independent_solution_of_the_same_task_is_not_flagged(tmp_path: Path) -> None:
    codes = {"ivanov": _code(tmp_path, "ivanov", *ORIGINAL),
             "sidorov": _code(tmp_path, "sidorov", *INDEPENDENT)}
    assert similar_pairs(codes) == []
    [pair] = similar_pairs(codes, threshold=0.0)  # they share a little, as any two would
    assert pair.score < 0.2


def test_shared_starter_code_does_not_make_notebooks_similar(tmp_path: Path) -> None:
    codes = {name: _code(tmp_path, name, STARTER, solution)
             for name, solution in SOLUTIONS.items()}
    # two short solutions alone: the starter code dominates and they look alike
    two = {name: codes[name] for name in ("clara", "elena")}
    assert (_score(similar_pairs(two), "clara", "elena") or 0.0) >= 0.6
    # in a class of five it is recognised as boilerplate and ignored
    assert similar_pairs(codes) == []
    everything = similar_pairs(codes, threshold=0.0)
    assert all(pair.score < 0.1 for pair in everything)
    assert _score(everything, "clara", "elena") is None  # nothing left in common
    # while a real copy among them is still found
    codes["fedor"] = _code(tmp_path, "fedor", STARTER, *DISGUISED[2:4])
    [pair] = similar_pairs(codes)
    assert (pair.first, pair.second) == ("anna", "fedor")
    assert pair.score >= 0.8


def test_unreadable_empty_and_tiny_notebooks_give_no_pairs(tmp_path: Path) -> None:
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    (tmp_path / "binary.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n")
    write_notebook(tmp_path / "empty.ipynb")
    write_notebook(tmp_path / "blank.ipynb", "", "  \n")
    codes = {name: notebook_code(tmp_path / f"{name}.ipynb")
             for name in ("broken", "binary", "empty", "blank", "missing")}
    assert codes == {"broken": "", "binary": "", "empty": "", "blank": f"\n{CELL_MARKER}\n  ",
                     "missing": ""}
    codes["tiny1"] = _code(tmp_path, "tiny1", "import torch\nx = torch.ones(3)")
    codes["tiny2"] = _code(tmp_path, "tiny2", "import torch\nx = torch.ones(3)")
    assert codes["tiny1"] and fingerprints(codes["tiny1"]) == set()  # 9 tokens, fewer than K
    assert similar_pairs(codes) == []
    assert similar_pairs(codes, threshold=0.0) == []


@pytest.mark.parametrize("mistake", [
    'print("accuracy:", evaluate(model, test_loader)\n',  # unclosed bracket: TokenError
    "if True:\n        x = 1\n    y = 2\n",  # bad unindent: IndentationError
])
def test_invalid_code_is_still_fingerprinted(tmp_path: Path, mistake: str) -> None:
    broken = ORIGINAL[2] + "\n" + mistake
    with pytest.raises((tokenize.TokenError, SyntaxError)):
        list(tokenize.generate_tokens(io.StringIO(broken).readline))
    assert fingerprints(broken) >= fingerprints(ORIGINAL[2])  # the fallback tokenizer's
    codes = {"a": _code(tmp_path, "a", ORIGINAL[2]), "b": _code(tmp_path, "b", broken)}
    [pair] = similar_pairs(codes)
    assert pair.score >= 0.8


def test_pairs_are_ordered_and_sorted_by_score(tmp_path: Path) -> None:
    codes = {"zoe": _code(tmp_path, "zoe", *ORIGINAL),
             "mia": _code(tmp_path, "mia", *ORIGINAL),
             "adam": _code(tmp_path, "adam", *DISGUISED),
             "kim": _code(tmp_path, "kim", *INDEPENDENT)}
    codes |= {name: _code(tmp_path, name, solution)  # three of seven is not boilerplate
              for name, solution in SOLUTIONS.items() if name in ("clara", "dmitry", "elena")}
    pairs = similar_pairs(codes, threshold=0.5)
    assert [(p.first, p.second) for p in pairs] == [("mia", "zoe"), ("adam", "mia"),
                                                   ("adam", "zoe")]
    assert pairs[0].score == 1.0
    assert pairs[1].score == pairs[2].score < 1.0
    assert [p.score for p in pairs] == sorted((p.score for p in pairs), reverse=True)
    assert all(p.first < p.second for p in pairs)


@pytest.mark.parametrize("seed", ["1", "2"])
def test_fingerprints_do_not_depend_on_the_process(seed: str) -> None:
    script = ("from runner.batch.similarity import fingerprints; import sys; "
              "print(sorted(fingerprints(sys.stdin.read())))")
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", script], input=ORIGINAL[2], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(sorted(fingerprints(ORIGINAL[2])))
    assert len(fingerprints(ORIGINAL[2])) > K // 2
