"""Notebooks written for older Colab (Keras 2, NumPy 1.2x) run, and the report says so.

Real notebooks in the real local sandbox; the shims live in the probe, which
runs in the notebook's kernel (runner/probe/compat*.py).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from runner import assignments
from runner.grading import grade
from runner.i18n.render import render
from runner.paths import ProjectPaths
from runner.report.model import Mode, Report
from runner.sandbox.backends import Bubblewrap, bubblewrap_works
from runner.verify import cases, judge
from tests.notebooks import write_notebook

pytestmark = pytest.mark.skipif(
    not bubblewrap_works() and os.environ.get("CI") != "true",
    reason="bubblewrap is not usable here (apt-get install bubblewrap)")


def _grade(assignment, notebook, out, mode=Mode.grade) -> Report:
    loaded = assignment if not isinstance(assignment, str) else assignments.load(assignment)
    return grade(loaded, notebook, out, mode=mode, backend=Bubblewrap())


def _compat_notes(report: Report) -> list[str]:
    return [render(note, "en") for note in report.note_details
            if note.id.startswith("note.compat.")]


def _missing(notes: list[str], expected: list[str]) -> list[str]:
    return [text for text in expected if not any(text in note for note in notes)]


NUMPY_OLD = """\
import pathlib, sys
import numpy as np
x = np.arange(4).astype(np.float)
print(x.dtype, np.int(2.7), np.object, np.NaN, np.product([2, 3]), np.asscalar(np.array([5])))
print(np.bool(1), hasattr(np, 'float'))
"""
# A library written for today's NumPy must still see the removed names missing.
MODERN_LIBRARY = """\
lib = pathlib.Path('site-packages')
lib.mkdir(exist_ok=True)
(lib / 'modern_lib.py').write_text('import numpy as np\\nsees_float = hasattr(np, "float")\\n')
sys.path.insert(0, str(lib.resolve()))
import modern_lib
assert modern_lib.sees_float is False
"""


def test_numpy_aliases_are_served_only_to_the_notebook_and_listed(tmp_path):
    notebook = write_notebook(tmp_path / "old_numpy.ipynb", NUMPY_OLD, MODERN_LIBRARY)
    report = _grade("autograd_derivative", notebook, tmp_path / "out")
    assert [c.status for c in report.execution.cells] == ["ok", "ok"], report.execution.cells
    notes = _compat_notes(report)
    expected = ["`np.float` was served as `float` (removed in NumPy 1.24)",
                "`np.int` was served as `int`", "`np.object` was served as `object`",
                "`np.NaN` was served as `np.nan` (removed in NumPy 2.0)",
                "`np.product` was served as `np.prod`", "`np.asscalar` was served as"]
    if not hasattr(np, "bool"):  # NumPy 1.24-1.26; NumPy 2 has np.bool again
        expected.append("`np.bool` was served as `bool`")
    assert _missing(notes, expected) == []
    assert len(notes) == len(expected), notes  # each once, nothing for the library's probe


def test_spec_can_switch_the_shims_off(tmp_path, project_copy):
    path = project_copy.assignments / "autograd_derivative" / "assignment.yaml"
    path.write_text(path.read_text() + "\ncompat: false\n")
    assignment = assignments.load("autograd_derivative", project_copy)
    assert assignment.spec.compat is False
    notebook = write_notebook(tmp_path / "old_numpy.ipynb", NUMPY_OLD)
    report = _grade(assignment, notebook, tmp_path / "out")
    cell = report.execution.cells[0]
    assert cell.status == "error" and "has no attribute 'float'" in cell.error
    assert _compat_notes(report) == []


KERAS2 = (
    """\
!pip install tensorflow==2.10.0
import numpy as np
import tensorflow as tf
from keras.models import Sequential
from keras.layers.core import Dense, Flatten
from keras.layers.convolutional import Conv2D
from keras.layers.pooling import MaxPooling2D
from keras.utils import np_utils
from keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.layers.experimental.preprocessing import Rescaling
from keras import callbacks, models, optimizers
from keras.datasets import fashion_mnist
tf.keras.utils.set_random_seed(0)
(x_train, y_train), _ = fashion_mnist.load_data()
x = x_train[:2000].reshape(-1, 28, 28, 1).astype(np.float32) / 255
y = np_utils.to_categorical(y_train[:2000], 10)
""",
    """\
cnn = Sequential([Conv2D(8, (5, 5), activation='relu', input_shape=(28, 28, 1)), MaxPooling2D(),
                  Conv2D(16, (3, 3), activation='relu'), MaxPooling2D(), Flatten(),
                  Dense(10, activation='softmax')])
cnn.compile(optimizers.Adam(lr=0.003, epsilon=None), 'categorical_crossentropy',
            metrics=['accuracy'])
cnn.fit_generator(ImageDataGenerator().flow(x, y, batch_size=50), steps_per_epoch=40,
                  epochs=1, verbose=0, workers=2, use_multiprocessing=False)
loss, accuracy = cnn.evaluate_generator(ImageDataGenerator().flow(x, y, batch_size=500), steps=4)
assert accuracy > 0.5, accuracy
print(cnn.predict_generator(ImageDataGenerator().flow(x, batch_size=500, shuffle=False),
                            steps=1).shape)
""",
    """\
mlp = Sequential([Rescaling(1.0, input_shape=(28, 28, 1)), Flatten(),
                  Dense(10, activation='softmax')])
mlp.compile(tf.keras.optimizers.legacy.SGD(lr=0.1, decay=1e-3), 'categorical_crossentropy')
mlp.fit(x, y, epochs=1, verbose=0,
        callbacks=[callbacks.ModelCheckpoint('best.hdf5', monitor='loss')])
# Keras 2's decay: lr / (1 + decay * step), after 63 steps of 32
assert abs(float(mlp.optimizer.learning_rate) - 0.1 / (1 + 1e-3 * 63)) < 1e-6
mlp.save('mlp_model')
mlp.save('mlp_model')  # again over the same folder, as Keras 2 allowed
mlp.save_weights('mlp.h5')
again = models.load_model('mlp_model')
again.load_weights('mlp.h5')
assert np.allclose(again.predict(x[:5], verbose=0), mlp.predict(x[:5], verbose=0))
assert models.load_model('best.hdf5') is not None
""",
)


@pytest.mark.slow
def test_keras2_notebook_runs_each_shim_listed_and_fit_generator_is_measured(tmp_path):
    notebook = write_notebook(tmp_path / "keras2.ipynb", *KERAS2)
    report = _grade("fashion_mnist_cnn", notebook, tmp_path / "out", mode=Mode.check)
    assert [c.status for c in report.execution.cells] == ["ok"] * 3, report.execution.cells
    notes = _compat_notes(report)
    expected = [
        "`keras.layers.core` (a Keras 2 module path) was served as `keras.layers`",
        "`keras.layers.convolutional`", "`keras.layers.pooling`",
        "`keras.utils.np_utils` (a Keras 2 module path) was served as `keras.utils`",
        "`tensorflow.keras.layers.experimental` (a Keras 2 module path)",
        "`tensorflow.keras.layers.experimental.preprocessing` (a Keras 2 module path)",
        "`keras.preprocessing.image.ImageDataGenerator` was served as "
        "`tf.keras.preprocessing.image.ImageDataGenerator`",
        "`lr=` of Adam was passed as `learning_rate=`", "`epsilon=None` of Adam",
        "`Model.fit_generator` was run as `Model.fit`",
        "`Model.evaluate_generator` was run as `Model.evaluate`",
        "`Model.predict_generator` was run as `Model.predict`",
        "`workers=` of `Model.fit` was ignored", "`use_multiprocessing=` of `Model.fit`",
        "`tf.keras.optimizers.legacy.SGD` was served as `keras.optimizers.SGD`",
        "`lr=` of SGD", "`decay=` of SGD became `InverseTimeDecay(learning_rate, 1, decay)`",
        "`ModelCheckpoint` accepted a Keras 2 file path",
        "`model.save()` to a path without `.keras` or `.h5` wrote a Keras model folder",
        "`model.save_weights()` to a `.h5` path wrote Keras 2's HDF5 weights file",
    ]
    assert _missing(notes, expected) == [], notes
    assert len(notes) == len(expected), notes  # each shim once, whatever its uses
    # The CNN was trained only through fit_generator: the probe's fit tracking saw it.
    # The second model is Flatten + Dense(10): a linear classifier, and reported as one.
    assert [m.kind for m in report.models] == ["cnn", "linear"]
    cnn = report.models[0]
    assert cnn.conv_channels == [8, 16] and cnn.accuracy is not None and cnn.accuracy > 0.5


MODERN = """\
import numpy as np
import matplotlib.pyplot as plt
import tensorflow as tf
import keras
from keras import layers
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((28, 28, 1)), layers.Rescaling(1 / 255),
                          layers.Flatten(), layers.Dense(10, activation='softmax')])
model.compile(keras.optimizers.SGD(learning_rate=0.1), 'sparse_categorical_crossentropy')
model.fit(np.zeros((64, 28, 28, 1), np.float64), np.zeros(64, int), verbose=0)
model.save('model.keras')
print(np.bool(1), np.nan, np.prod([2, 3]))
"""


@pytest.mark.slow
def test_a_notebook_in_todays_api_lists_no_shims(tmp_path):
    notebook = write_notebook(tmp_path / "modern.ipynb", MODERN)
    report = _grade("autograd_derivative", notebook, tmp_path / "out")
    assert report.execution.cells[0].status == "ok", report.execution.cells[0].error
    assert _compat_notes(report) == []


LEGACY_KERAS = """\
import os
os.environ['TF_USE_LEGACY_KERAS'] = '1'
import numpy as np
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Flatten
from tensorflow.keras.optimizers.legacy import SGD
from tensorflow.keras.preprocessing.image import ImageDataGenerator
(x_train, y_train), _ = tf.keras.datasets.fashion_mnist.load_data()
x, y = x_train[:2000, ..., None] / 255.0, y_train[:2000]
model = Sequential([Flatten(input_shape=(28, 28, 1)), Dense(10, activation='softmax')])
model.compile(SGD(lr=0.1, decay=1e-3), 'sparse_categorical_crossentropy')
model.fit_generator(ImageDataGenerator().flow(x, y, batch_size=50), steps_per_epoch=40,
                    verbose=0)
assert type(model).__module__.startswith('tf_keras'), type(model)
model.save('legacy_model')
"""


LEGACY_KERAS_TAPE = """\
import os
os.environ['TF_USE_LEGACY_KERAS'] = '1'
import numpy as np
import tensorflow as tf
(x_train, y_train), _ = tf.keras.datasets.fashion_mnist.load_data()
x, y = (x_train[:2000].reshape(-1, 784) / 255.0).astype('float32'), y_train[:2000].astype('int64')
legacy = tf.keras.Sequential([tf.keras.layers.Dense(10, input_shape=(784,))])
assert type(legacy).__module__.startswith('tf_keras'), type(legacy)
optimizer = tf.keras.optimizers.SGD(0.1)
for start in range(0, len(x), 50):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            y[start:start + 50], legacy(x[start:start + 50])))
    grads = tape.gradient(loss, legacy.trainable_variables)
    optimizer.apply_gradients(zip(grads, legacy.trainable_variables))
"""


@pytest.mark.slow
@pytest.mark.parametrize("source", [LEGACY_KERAS, LEGACY_KERAS_TAPE],
                         ids=["fit_generator", "gradient_tape"])
def test_keras2_itself_is_left_alone(tmp_path, source):
    """With tf-keras (Keras 2) the same calls are Keras 2's own: nothing is bridged, and a
    model is measured whether ``fit`` or a hand-written loop with Keras 2's optimizer
    trained it."""
    notebook = write_notebook(tmp_path / "tf_keras.ipynb", source)
    report = _grade("fashion_mnist_cnn", notebook, tmp_path / "out", mode=Mode.check)
    cell = report.execution.cells[0]
    if cell.status == "error" and "tf_keras" in (cell.error or ""):
        pytest.skip("the sandbox's Python has no tf-keras")
    assert cell.status == "ok", cell.error
    assert _compat_notes(report) == []
    (model,) = report.models
    # 40 SGD steps on 2000 images: well above chance (0.1), far from converged.
    assert model.kind == "linear" and model.accuracy is not None and model.accuracy > 0.4
    assert model.evaluated_by == "clean room" and model.verified, model.graph


@pytest.mark.slow
def test_colab2022_notebook_gets_the_verdict_of_its_modern_twin(tmp_path):
    """Two fixtures, the same homework in TF 2.10-era and today's Keras: same grade."""
    found = {case.notebook.stem: case for case in cases("fashion_mnist_cnn",
                                                        ProjectPaths.default())}
    reports = {}
    for name in ("colab2022_keras", "colab2022_keras_modern"):
        reports[name] = _grade("fashion_mnist_cnn", found[name].notebook, tmp_path / name)
        assert judge(found[name], reports[name]) == [], name
    old, new = reports["colab2022_keras"], reports["colab2022_keras_modern"]
    assert {c.id: c.passed for c in old.checks} == {c.id: c.passed for c in new.checks}

    def found_models(report: Report) -> list[tuple]:
        return [(m.kind, m.conv_channels, m.conv_kernels, m.conv_pool_blocks)
                for m in report.models]

    assert found_models(old) == found_models(new)
    assert len(old.models) == 4
    for before, after in zip(old.models, new.models, strict=True):
        assert abs(before.accuracy - after.accuracy) < 0.02  # lr, decay, generator: faithful
    assert _compat_notes(new) == []
    assert _missing(_compat_notes(old), [
        "`np.float`", "`keras.layers.core`", "`keras.layers.convolutional`",
        "`keras.layers.pooling`", "`keras.utils.np_utils`", "`lr=` of Adam", "`lr=` of SGD",
        "`decay=` of SGD", "`Model.fit_generator`", "`model.save()`",
        "`model.save_weights()`"]) == []
