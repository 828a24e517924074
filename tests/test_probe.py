"""The in-sandbox probe, end to end: real notebooks in real kernels on real Fashion-MNIST.

Each test copies ``runner/probe`` as ``nngrade_probe``, installs it from an
IPython startup file (as the sandbox does), runs a notebook through nbclient,
runs ``finish()`` in the same kernel and reads measurements.json with the
host's own pydantic model.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from runner.datasets import (
    ImageSplits,
    get_spec,
    load_official,
    write_keras_cache,
    write_torchvision_raw,
)
from runner.measurements import Measurements, load_array, read_json_model

PROBE = Path(__file__).resolve().parents[1] / "runner" / "probe"
FASHION = Path("/usr/share/datasets/fashion-mnist")
FASHION_SPEC = get_spec("fashion_mnist")
FINISH = "import nngrade_probe as _nngrade_probe; _nngrade_probe.finish()"

pytestmark = pytest.mark.skipif(not FASHION.is_dir(), reason="Fashion-MNIST files not installed")


def install_probe_copy(dest: Path) -> Path:
    """Copy the probe as ``dest/nngrade_probe``, as the sandbox does; returns ``dest``."""
    shutil.copytree(PROBE, dest / "nngrade_probe",
                    ignore=shutil.ignore_patterns("__pycache__", "agent.py"))
    return dest


@pytest.fixture(scope="module")
def fashion(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | np.ndarray]:
    """2000 training, 500 calibration and 500 evaluation images, as .npy and raw idx."""
    root = tmp_path_factory.mktemp("fashion")
    official = load_official("fashion_mnist")
    train_x, train_y, test_x, test_y = (official.train_x, official.train_y,
                                        official.test_x, official.test_y)
    arrays = {"train_x": train_x[:2000], "train_y": train_y[:2000].astype(np.int64),
              "calib_x": test_x[:500], "calib_y": test_y[:500].astype(np.int64),
              "eval_x": test_x[500:1000]}
    for name, array in arrays.items():
        np.save(root / f"{name}.npy", array)
    public = ImageSplits(train_x[:2000], train_y[:2000], test_x[:500], test_y[:500])
    raw = write_torchvision_raw(public, root / "raw", dataset=FASHION_SPEC)
    # What the host provisions as the sandbox's HOME:
    write_keras_cache(public, root / "home", dataset=FASHION_SPEC)
    return {"dir": root, "raw": raw, "eval_y": test_y[500:1000].astype(np.int64)}


def run_notebook(tmp: Path, fashion: dict, cells: list[str], *, functions: list[dict] | None = None,
                 after: str = "") -> tuple[Measurements, Path, nbformat.NotebookNode]:
    """Run ``cells`` with the probe installed at kernel start and finished after them."""
    data = fashion["dir"]
    lib = install_probe_copy(tmp / "lib")
    out, work = tmp / "out", tmp / "work"
    work.mkdir()
    config: dict = {
        "out_dir": str(out),
        "models": {"eval_inputs": str(data / "eval_x.npy"),
                   "calibration_inputs": str(data / "calib_x.npy"),
                   "calibration_labels": str(data / "calib_y.npy"),
                   "num_classes": 10, "max_models": 32, "sample_range": [0, 255],
                   "normalizations": [n.model_dump() for n in FASHION_SPEC.normalizations]},
        "torchvision_raw": {"FashionMNIST": str(fashion["raw"])},
    }
    if functions is not None:
        config["functions"] = functions
    (tmp / "probe.json").write_text(json.dumps(config))
    startup = tmp / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-probe.py").write_text(
        f"import sys as _sys\n_sys.path.insert(0, {str(lib)!r})\n"
        f"import nngrade_probe as _nngrade_probe\n"
        f"_nngrade_probe.install({str(tmp / 'probe.json')!r})\ndel _sys, _nngrade_probe\n")
    sources = [f"DATA = {str(data)!r}", *cells, FINISH] + ([after] if after else [])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    shutil.copytree(data / "home", tmp / "home")  # keras wants its ~/.keras writable
    # OMP_NUM_THREADS=1: spinning threads crawl on a busy CI box.
    env = {**os.environ, "IPYTHONDIR": str(tmp / "ipython"), "TF_CPP_MIN_LOG_LEVEL": "2",
           "HOME": str(tmp / "home"), "OMP_NUM_THREADS": "1"}
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(work)}}).execute(env=env)
    return read_json_model(out / "measurements.json", Measurements), out, nb


def accuracy(out: Path, relative: str | None, labels: np.ndarray) -> float:
    """Accuracy of saved predictions against the hidden labels, read as the host does."""
    assert relative is not None
    predicted = load_array(out, relative, max_items=labels.size)
    assert predicted.dtype == np.int64 and predicted.shape == labels.shape
    return float(np.mean(predicted == labels))


TORCH_CNN = """
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(0)
X = torch.tensor(np.load(DATA + "/train_x.npy"), dtype=torch.float32).unsqueeze(1) / 255
Y = torch.tensor(np.load(DATA + "/train_y.npy"))

class Net(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 5, padding=2)
        self.fc = nn.Linear(2 * width * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.view(x.size(0), -1))

for width in (8, 12):
    model = Net(width)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for start in range(0, len(X), 32):
        optimizer.zero_grad()
        F.cross_entropy(model(X[start:start + 32]), Y[start:start + 32]).backward()
        optimizer.step()
model.eval()
with torch.no_grad():
    print((model(X).argmax(1) == Y).float().mean().item())
model.train()
"""


@pytest.mark.slow
def test_pytorch_models_trained_in_a_loop(tmp_path: Path, fashion: dict) -> None:
    result, out, nb = run_notebook(tmp_path, fashion, [TORCH_CNN],
                                   after="print('training', model.training)")
    assert [m.index for m in result.models] == [0, 1]
    assert [m.names for m in result.models] == [[], ["model"]]
    for model, width in zip(result.models, (8, 12), strict=True):
        assert model.error is None and model.framework == "pytorch"
        assert model.class_name == "Net"
        kinds = [layer.kind for layer in model.layers]
        assert kinds == ["conv", "activation", "pool", "conv", "activation", "pool",
                         "flatten", "dense"]
        conv1, pool = model.layers[0], model.layers[2]
        assert (conv1.channels, conv1.kernel_size, conv1.output_shape) == (width, [3, 3],
                                                                           [width, 28, 28])
        assert model.layers[3].kernel_size == [5, 5]
        assert (pool.type, pool.kernel_size, pool.output_shape) == ("max_pool2d", [2, 2],
                                                                    [width, 14, 14])
        assert model.params == 10 * width + 2 * width * (25 * width + 1) + 10 * (98 * width + 1)
        assert model.input is not None and model.input.shape == [1, 28, 28]
        assert model.input.source == "training-data"
        assert model.input.scale == pytest.approx(1 / 255) and model.input.shift == 0
        assert model.calibration_accuracy is not None and model.calibration_accuracy > 0.6
        assert accuracy(out, model.predictions, fashion["eval_y"]) > 0.6
    assert "training True" in nb.cells[-1].outputs[0]["text"]


KERAS_CNN = """
import numpy as np
from tensorflow import keras
keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x = x_train.astype("float32")
mean, std = x.mean(), x.std()
x = ((x - mean) / std)[..., None]
model = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Conv2D(8, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(x, y_train, epochs=1, batch_size=32, verbose=0)
clf = model
"""


@pytest.mark.slow
def test_keras_sequential_standardised_nhwc(tmp_path: Path, fashion: dict) -> None:
    result, out, _ = run_notebook(tmp_path, fashion, [KERAS_CNN])
    (model,) = result.models
    assert model.error is None and model.framework == "keras"
    assert model.class_name == "Sequential" and sorted(model.names) == ["clf", "model"]
    assert [layer.kind for layer in model.layers] == ["conv", "pool", "flatten", "dense"]
    assert model.layers[0].kernel_size == [3, 3] and model.layers[0].output_shape == [26, 26, 8]
    assert model.params == 80 + 13 * 13 * 8 * 10 + 10
    assert model.input is not None and model.input.shape == [28, 28, 1]
    assert model.input.source == "training-data"
    assert model.input.shift < -0.5  # standardised, not x/255
    assert accuracy(out, model.predictions, fashion["eval_y"]) > 0.6


TORCHVISION = """
import torch, torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
torch.manual_seed(0)
train = datasets.FashionMNIST(root="data", train=True, download=True,
                              transform=transforms.ToTensor())
test = datasets.FashionMNIST(root="data", train=False, download=True)
print(len(train), len(test))
net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
for xb, yb in DataLoader(train, batch_size=50, shuffle=True):
    optimizer.zero_grad()
    nn.functional.cross_entropy(net(xb), yb).backward()
    optimizer.step()

def f(x):
    return torch.sin(x) * x ** 2

def grad_f(x):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x).sum(), x)
    return g

def grad_by_hand(x):
    return torch.cos(x) * x ** 2 + 2 * x * torch.sin(x)

not_a_function = 3
"""


@pytest.mark.slow
def test_torchvision_offline_and_functions(tmp_path: Path, fashion: dict) -> None:
    args = np.linspace(-2.0, 2.0, 9)
    np.save(tmp_path / "args.npy", args)
    names = ["f", "grad_f", "grad_by_hand", "missing", "not_a_function"]
    functions = [{"name": name, "args": str(tmp_path / "args.npy")} for name in names]
    result, out, nb = run_notebook(tmp_path, fashion, [TORCHVISION], functions=functions)
    assert "2000 500" in nb.cells[1].outputs[0]["text"]
    raw = tmp_path / "work" / "data" / "FashionMNIST" / "raw"
    assert (raw / "t10k-images-idx3-ubyte").is_file()
    (model,) = result.models
    assert model.error is None and model.names == ["net"]
    assert [layer.kind for layer in model.layers] == ["flatten", "dense"]
    assert model.input is not None and model.input.source == "training-data"
    assert model.input.scale == pytest.approx(1 / 255)
    assert accuracy(out, model.predictions, fashion["eval_y"]) > 0.6

    by_name = {fv.name: fv for fv in result.functions}
    expected = {"f": np.sin(args) * args**2,
                "grad_f": np.cos(args) * args**2 + 2 * args * np.sin(args)}
    expected["grad_by_hand"] = expected["grad_f"]
    for name, values in expected.items():
        record = by_name[name]
        assert record.error is None and record.values is not None
        got = load_array(out, record.values, max_items=100)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, values, rtol=1e-12)
    assert by_name["grad_f"].autograd_calls > 0
    assert by_name["f"].autograd_calls == 0 and by_name["grad_by_hand"].autograd_calls == 0
    assert by_name["missing"].error is not None and "NameError" in by_name["missing"].error
    assert by_name["not_a_function"].error is not None and by_name["not_a_function"].values is None


# Keras models trained without `fit`: a GradientTape loop (how GANs are trained),
# train_on_batch. Keras 2's optimizers need tf-keras: tests/test_compat.py.

TAPE_CLASSIFIER = """
import numpy as np, tensorflow as tf, keras
keras.utils.set_random_seed(0)
x = (np.load(DATA + "/train_x.npy")[..., None] / 255.0).astype("float32")
y = np.load(DATA + "/train_y.npy")
net = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, activation="relu"),
                        keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                        keras.layers.Dense(10)], name="tape_net")
optimizer = keras.optimizers.Adam(3e-3)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

@tf.function
def step(xb, yb):
    with tf.GradientTape() as tape:
        loss = loss_fn(yb, net(xb, training=True))
    grads = tape.gradient(loss, net.trainable_variables)
    optimizer.apply_gradients(zip(grads, net.trainable_variables))

for epoch in range(2):
    for start in range(0, len(x), 50):
        step(x[start:start + 50], y[start:start + 50])
"""

TAPE_GAN = """
import numpy as np, tensorflow as tf, keras
keras.utils.set_random_seed(0)
images = (np.load(DATA + "/train_x.npy")[:512].reshape(-1, 784) / 127.5 - 1).astype("float32")
generator = keras.Sequential([keras.Input((16,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(784, activation="tanh")], name="generator")
discriminator = keras.Sequential([keras.Input((784,)), keras.layers.Dense(64),
                                  keras.layers.LeakyReLU(0.2), keras.layers.Dense(1)],
                                 name="discriminator")
g_opt, d_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
bce = keras.losses.BinaryCrossentropy(from_logits=True)

for start in range(0, 512, 64):
    real = images[start:start + 64]
    noise = tf.random.normal((64, 16))
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)
        real_out, fake_out = discriminator(real, training=True), discriminator(fake, training=True)
        d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        g_loss = bce(tf.ones_like(fake_out), fake_out)
    g_opt.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables),
                              generator.trainable_variables))
    d_opt.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                              discriminator.trainable_variables))
"""

TRAIN_ON_BATCH = """
import numpy as np, keras
keras.utils.set_random_seed(0)
x = np.load(DATA + "/train_x.npy").reshape(-1, 784) / 255.0
y = np.load(DATA + "/train_y.npy")
mlp = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"),
                        keras.layers.Dense(10, activation="softmax")])
mlp.compile("adam", "sparse_categorical_crossentropy")
for epoch in range(3):
    for start in range(0, len(x), 100):
        mlp.train_on_batch(x[start:start + 100], y[start:start + 100])
"""

@pytest.mark.slow
def test_a_classifier_trained_in_a_tape_loop_is_measured(tmp_path: Path, fashion: dict) -> None:
    result, out, _ = run_notebook(tmp_path, fashion, [TAPE_CLASSIFIER])
    (model,) = result.models
    assert model.error is None and model.names == ["net"]
    assert [layer.kind for layer in model.layers] == ["conv", "pool", "flatten", "dense"]
    assert accuracy(out, model.predictions, fashion["eval_y"]) > 0.6


@pytest.mark.slow
def test_a_gan_trained_by_hand_shows_both_its_networks(tmp_path: Path, fashion: dict) -> None:
    result, _, _ = run_notebook(tmp_path, fashion, [TAPE_GAN])
    assert [m.names for m in result.models] == [["generator"], ["discriminator"]]
    assert [m.params for m in result.models] == [16 * 64 + 64 + 64 * 784 + 784,
                                                 784 * 64 + 64 + 64 + 1]


@pytest.mark.slow
def test_train_on_batch_is_training(tmp_path: Path, fashion: dict) -> None:
    result, out, _ = run_notebook(tmp_path, fashion, [TRAIN_ON_BATCH])
    (model,) = result.models
    assert model.names == ["mlp"] and model.input is not None
    assert model.input.source == "training-data"  # the batches' statistics were seen
    assert accuracy(out, model.predictions, fashion["eval_y"]) > 0.6


# Written like the Keras example "Variational AutoEncoder": a subclass with its own
# train_step and no call, an encoder returning z_mean, z_log_var, z, a separate decoder.
KERAS_VAE = """
import numpy as np, tensorflow as tf, keras
from keras import layers, ops
keras.utils.set_random_seed(0)

class Sampling(layers.Layer):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=ops.shape(z_mean))
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

latent_dim = 2
encoder_inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(16, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Flatten()(x)
x = layers.Dense(16, activation="relu")(x)
z_mean = layers.Dense(latent_dim, name="z_mean")(x)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
z = Sampling()([z_mean, z_log_var])
encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

latent_inputs = keras.Input(shape=(latent_dim,))
x = layers.Dense(7 * 7 * 32, activation="relu")(latent_inputs)
x = layers.Reshape((7, 7, 32))(x)
x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Conv2DTranspose(16, 3, activation="relu", strides=2, padding="same")(x)
decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")

class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(ops.sum(
                keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2)))
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            total_loss = reconstruction_loss + ops.mean(ops.sum(kl_loss, axis=1))
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        return {"loss": self.total_loss_tracker.result()}

digits = np.expand_dims(np.load(DATA + "/train_x.npy"), -1).astype("float32") / 255
vae = VAE(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam())
vae.fit(digits, epochs=1, batch_size=128, verbose=0)
"""


@pytest.mark.slow
def test_a_keras_example_vae_shows_its_encoder_and_decoder(tmp_path: Path, fashion: dict
                                                           ) -> None:
    from graders.roles import parts_of

    result, _, _ = run_notebook(tmp_path, fashion, [KERAS_VAE])
    (vae,) = result.models  # its encoder and decoder were trained inside it, not apart
    assert vae.class_name == "VAE" and vae.names == ["vae"]
    assert vae.params == 29_972 + 18_721  # never built itself: its weights are counted
    assert vae.error is not None  # a VAE classifies nothing
    assert [(p.name, p.role, p.latent) for p in parts_of(vae, 28 * 28)] == [
        ("", None, None), ("encoder", "vae_encoder", 2), ("decoder", "decoder", 2)]


@pytest.mark.slow
def test_a_gan_s_networks_have_the_roles_of_their_shapes(tmp_path: Path, fashion: dict
                                                          ) -> None:
    from graders.roles import parts_of

    result, _, _ = run_notebook(tmp_path, fashion, [TAPE_GAN])
    roles = [parts_of(model, 28 * 28)[0] for model in result.models]
    assert [(part.role, part.latent) for part in roles] == [("decoder", 16),
                                                            ("discriminator", None)]
