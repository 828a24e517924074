"""Build small real notebooks for end-to-end tests (fixture files hold the realistic ones)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from runner import assignments
from runner.paths import ProjectPaths


def write_notebook(path: Path, *cells: str, markdown: str = "# Домашнее задание") -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(markdown)]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(notebook, path)
    return path


def with_limits(project: ProjectPaths, assignment_id: str, limits: str) -> assignments.Assignment:
    """A copy of an assignment with other limits, to provoke them cheaply."""
    path = project.assignments / assignment_id / "assignment.yaml"
    text = path.read_text()
    start = text.index("limits:")
    end = text.index("collect:")
    path.write_text(text[:start] + limits + "\n" + text[end:])
    return assignments.load(assignment_id, project)


AUTOGRAD_GOOD = (
    "!pip install torch\nimport torch",
    """\
def f(x):
    return torch.sin(x ** 2) * torch.exp(-x / 3) + torch.log(1 + x ** 2)


def grad_f(x):
    x = x.detach().clone().requires_grad_(True)
    f(x).sum().backward()
    return x.grad
""",
    "print(grad_f(torch.tensor([0.5, 1.0], dtype=torch.float64)))",
)

# A short PyTorch homework: torchvision loader, functional pooling, one CNN and one MLP.
TORCH_SMALL = (
    """\
import torch, torch.nn as nn, torch.nn.functional as F
from torch.utils.data import DataLoader, Subset
import torchvision, torchvision.transforms as T
torch.manual_seed(0)
tf = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
train = torchvision.datasets.FashionMNIST('data', train=True, download=True, transform=tf)
loader = DataLoader(Subset(train, range(6000)), batch_size=64, shuffle=True)
""",
    """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 5, padding=2)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.fc(x.flatten(1))


def fit(model):
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for x, y in loader:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


for model in [Net(), nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))]:
    fit(model)
""",
)

# A short Keras homework in Colab style: load_data(), standardised NHWC inputs, a reused name.
KERAS_SMALL = (
    "from google.colab import drive\ndrive.mount('/content/drive')\n%pip install tensorflow",
    """\
import numpy as np
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
mean, std = x_train.mean(), x_train.std()
x_train = ((x_train - mean) / std)[..., None][:5000]
y_train = y_train[:5000]
print(x_train.shape, x_test.shape)
""",
    """\
keras.utils.set_random_seed(0)
for filters in (8, 16):
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(filters, 5, activation='relu', padding='same'),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(2 * filters, 3, activation='relu', padding='same'),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation='softmax'),
    ])
    model.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=1, batch_size=64, verbose=0)
""",
)
