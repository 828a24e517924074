"""Real containers: the Docker backend grades, and holds against hostile notebooks.

Needs a Docker engine and the grading image (`nngrade image build`, see the
README). Skipped without them, except under CI=true, where a missing engine fails.
Where the local sandbox must behave the same, a test runs under both backends.
Each hostile notebook must end within its limits, be reported in plain words, be
scored only on what was legitimately measured, and leave everything else alone.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path

import nbformat
import numpy as np
import pytest

from runner import assignments, grading
from runner.datasets import get_spec
from runner.datasets.splits import load_official, public_split
from runner.grading import grade
from runner.i18n.message import msg
from runner.i18n.render import render
from runner.report.model import Mode, Report, Status
from runner.sandbox import engine
from runner.sandbox.backends import Backend, Bubblewrap, bubblewrap_works
from runner.sandbox.docker_backend import Docker
from tests.notebooks import AUTOGRAD_GOOD, with_limits, write_notebook

# Every test here starts real containers (seconds to minutes each).
pytestmark = pytest.mark.slow


def _docker_ready() -> bool:
    return engine.engine_reachable() and engine.has_image(engine.image_name())


needs_docker = pytest.mark.skipif(
    os.environ.get("CI") != "true" and not _docker_ready(),
    reason="no Docker engine or no grading image (nngrade image build)")
needs_bubblewrap = pytest.mark.skipif(
    os.environ.get("CI") != "true" and not bubblewrap_works(),
    reason="bubblewrap is not usable here (apt-get install bubblewrap)")
BACKENDS = [pytest.param("docker", marks=needs_docker),
            pytest.param("bubblewrap", marks=needs_bubblewrap)]


USED: list[Docker] = []  # the backends of the current test, to find their containers


@pytest.fixture(autouse=True)
def _forget_backends():
    USED.clear()


def _grade(assignment, notebook: Path, out: Path, mode=Mode.grade,
           backend: str = "docker") -> Report:
    loaded = assignment if not isinstance(assignment, str) else assignments.load(assignment)
    sandbox: Backend = Bubblewrap() if backend == "bubblewrap" else Docker()
    if isinstance(sandbox, Docker):
        USED.append(sandbox)
    return grade(loaded, notebook, out, mode=mode, backend=sandbox)


def _containers_left() -> list:
    """The containers this test's runs started that still exist (should be none)."""
    started = [c for backend in USED for c in backend.started]
    assert started, "no container was started"
    return [c for c in started
            if engine.client().containers.list(all=True, filters={"id": c})]


def _cheap(project_copy, limits: str):
    return with_limits(project_copy, "autograd_derivative", f"limits: {{{limits}}}")


@needs_docker
def test_container_grades_with_full_marks_and_is_removed(tmp_path):
    notebook = write_notebook(tmp_path / "hw.ipynb", *AUTOGRAD_GOOD)
    report = _grade("autograd_derivative", notebook, tmp_path / "out")
    assert (report.score, report.status) == (10, Status.graded)
    sandbox = report.sandbox
    assert (sandbox.backend, sandbox.isolated, sandbox.network) == ("docker", True, False)
    assert sandbox.image == engine.image_name()
    assert sandbox.limits["memory_mb"] == 4096 and sandbox.limits["disk_mb"] == 2048
    assert "image nngrade-grader" in (tmp_path / "out" / "report.md").read_text()
    assert _containers_left() == []


@needs_docker
def test_infinite_loop_that_ignores_signals_ends_at_the_time_limit(tmp_path, project_copy):
    assignment = _cheap(project_copy, "total_seconds: 70, cell_seconds: 5, memory_mb: 2048")
    notebook = write_notebook(tmp_path / "loop.ipynb", """\
import signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
stubborn = subprocess.Popen([sys.executable, '-c', 'import signal, time; '
                             'signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(10**6)'])
while True:
    pass
""", "x = 1")
    started = time.monotonic()
    report = _grade(assignment, notebook, tmp_path / "out")
    assert time.monotonic() - started < 70 + 30 + 20  # total limit, grace, setup
    assert report.execution.cells[0].status in ("timeout", "killed")
    assert report.execution.cells[1].status == "skipped"
    assert report.status is Status.partial and report.score == 0
    assert _containers_left() == []


@needs_docker
def test_memory_bomb_is_stopped_and_called_out_of_memory(tmp_path, project_copy):
    assignment = _cheap(project_copy, "total_seconds: 120, cell_seconds: 100, memory_mb: 600")
    notebook = write_notebook(tmp_path / "bomb.ipynb", """\
blocks = []
while True:
    blocks.append(bytearray(50 * 2**20))
""")
    report = _grade(assignment, notebook, tmp_path / "out")
    assert "used more than 600 MB of memory" in report.execution.stopped
    assert report.execution.cells[0].status in ("kernel-died", "killed")
    assert report.execution.seconds < 60
    assert report.score == 0


@needs_docker
def test_fork_bomb_is_contained_and_a_neighbour_is_unaffected(tmp_path, project_copy):
    assignment = _cheap(project_copy,
                        "total_seconds: 240, cell_seconds: 100, processes: 64, cpus: 0.5")
    # The second cell waits for the bomb to reach the limit, however slowly a busy machine
    # forks; it is never meant to finish.
    bomb = write_notebook(tmp_path / "bomb.ipynb", """\
import subprocess
subprocess.run(['bash', '-c', ':(){ :|:& };:'], timeout=10)
""", "import time\ntime.sleep(90)", "x = 1")
    good = write_notebook(tmp_path / "good.ipynb", *AUTOGRAD_GOOD)
    neighbour: list[Report] = []
    thread = threading.Thread(target=lambda: neighbour.append(
        _grade("autograd_derivative", good, tmp_path / "good")))
    thread.start()
    report = _grade(assignment, bomb, tmp_path / "bomb")
    thread.join()
    assert "hit its limit of 64 processes" in (report.execution.stopped or "")
    assert report.status is Status.partial
    assert neighbour[0].score == 10
    assert _containers_left() == []


FORK_LOOP = """\
import os
while True:  # every child runs this loop too
    try:
        os.fork()
    except OSError:
        pass
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fork_loop_is_ended_at_its_process_limit_in_either_sandbox(tmp_path, project_copy,
                                                                     backend):
    assignment = _cheap(project_copy, "total_seconds: 300, cell_seconds: 120, processes: 64")
    bomb = write_notebook(tmp_path / "bomb.ipynb", FORK_LOOP, "x = 1")
    report = _grade(assignment, bomb, tmp_path / "bomb", backend=backend)
    message = render(msg("stopped.killed.processes", processes=64), "en")
    assert report.execution.stopped == message
    assert report.execution.stopped_detail.id == "stopped.killed.processes"
    # Stopped for its processes while the cell ran: the time limit would have read
    # "timeout" (cell_seconds) or the total-time message.
    assert [(c.status, c.error) for c in report.execution.cells] == [
        ("killed", message), ("skipped", None)]
    assert (report.status, report.score) == (Status.partial, 0)
    assert "hit its limit of 64 processes and threads" in (
        tmp_path / "bomb" / "report.md").read_text()
    good = write_notebook(tmp_path / "good.ipynb", *AUTOGRAD_GOOD)
    after = _grade("autograd_derivative", good, tmp_path / "good", backend=backend)
    assert (after.score, after.status) == (10, Status.graded)
    if backend == "docker":
        assert _containers_left() == []


@needs_docker
def test_filling_the_disk_stops_at_the_quota(tmp_path, project_copy):
    assignment = _cheap(project_copy, "total_seconds: 120, cell_seconds: 60, memory_mb: 2048, "
                                      "disk_mb: 100")
    notebook = write_notebook(tmp_path / "fill.ipynb", """\
with open('filler.bin', 'wb') as handle:
    while True:
        handle.write(b'0' * 2**20)
        handle.flush()
""")
    report = _grade(assignment, notebook, tmp_path / "out")
    cell = report.execution.cells[0]
    assert cell.status == "error" and "No space left on device" in cell.error
    assert report.status is Status.partial


@needs_docker
def test_no_network_and_no_way_out(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGRADE_TEST_SECRET", "s3cr3t")
    root = Path(__file__).resolve().parents[1]
    notebook = write_notebook(tmp_path / "escape.ipynb", f"""\
import glob, importlib.util, os, pathlib, socket
found = {{}}
try:
    socket.create_connection(('1.1.1.1', 80), timeout=3)
    found['connect'] = True
except OSError:
    pass
try:
    socket.getaddrinfo('pypi.org', 443)
    found['dns'] = True
except OSError:
    pass
if os.environ.get('NNGRADE_TEST_SECRET'):
    found['secret'] = True
for path in ['/usr/share/datasets', '/var/run/docker.sock', {str(root)!r},
             '/job/reference_solutions', '/etc/shadow']:
    if os.path.exists(path) and os.access(path, os.R_OK):
        found[path] = True
if importlib.util.find_spec('graders') or importlib.util.find_spec('runner'):
    found['grader code'] = True
assert found == {{}}, found
""")
    report = _grade("fashion_mnist_cnn", notebook, tmp_path / "out")
    assert report.execution.cells[0].status == "ok", report.execution.cells[0].error


# Run in the container: every run of label values (0..9) in every file it can read under
# the job and home folders, raw and unpacked (gzip, zip); printed for the host to search.
LABEL_SCAN = """\
import base64, gzip, json, os, re, zipfile, zlib
import numpy as np

# A run of label values 0..9 as bytes: a label array of any integer width holds one
# (its high bytes are zeros). Image backgrounds hold long runs of zeros; labels never
# do, not even as 8-byte integers (8 zero labels in a row).
MIN_RUN, ZEROS = 400, 64
TEXT = re.compile(rb'(?:[0-9][ ,;\\t\\r\\n]{1,3}){400,}')  # a JSON or CSV list of labels
TEXT_BYTES = np.zeros(256, bool)
TEXT_BYTES[list(b'0123456789 ,;\\t\\r\\n')] = True


def contents(path):
    with open(path, 'rb') as handle:
        raw = handle.read()
    yield raw
    if raw[:2] == b'\\x1f\\x8b':
        yield gzip.decompress(raw)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as bundle:
            for name in bundle.namelist():
                yield bundle.read(name)


def stretches(mask, least):
    padded = np.zeros(len(mask) + 2, bool)
    padded[1:-1] = mask
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    begins, ends = edges[::2], edges[1::2]
    long = ends - begins >= least
    return zip(begins[long], ends[long])


def label_runs(raw):
    values = np.frombuffer(raw, np.uint8)
    for begin, end in stretches(values <= 9, MIN_RUN):
        stretch = values[begin:end]
        keep = np.ones(len(stretch), bool)
        for zeros_begin, zeros_end in stretches(stretch == 0, ZEROS):
            keep[zeros_begin:zeros_end] = False
        for run_begin, run_end in stretches(keep, MIN_RUN):
            yield 'binary', stretch[run_begin:run_end].tobytes()
    for begin, end in stretches(TEXT_BYTES[values], 2 * MIN_RUN):
        for match in TEXT.finditer(raw, begin, end):
            yield 'text', bytes(c - 48 for c in match.group() if 48 <= c <= 57)


found, seen = {}, set()
for top in ('/job', os.environ['HOME']):
    for folder, _, names in os.walk(top):
        for name in names:
            path = os.path.join(folder, name)
            if (os.path.islink(path) or not os.path.isfile(path) or path in seen
                    or not os.access(path, os.R_OK)):
                continue
            seen.add(path)
            for raw in contents(path):
                for form, run in label_runs(raw):
                    found.setdefault(run, (path, form))
print('LABEL-RUNS', json.dumps({'files': sorted(seen), 'runs': [
    [path, form, base64.b64encode(zlib.compress(run, 9)).decode()]
    for run, (path, form) in found.items()]}))
"""
LABEL_CHUNK = 200  # a leak of 2 * LABEL_CHUNK labels in a row holds a whole chunk


def _label_runs(executed: Path) -> list[tuple[str, bytes]]:
    notebook = nbformat.read(executed, as_version=4)
    text = "".join(output.get("text", "") for cell in notebook.cells
                   if cell.cell_type == "code" for output in cell.get("outputs", []))
    line = next(line for line in text.splitlines() if line.startswith("LABEL-RUNS "))
    found = json.loads(line.removeprefix("LABEL-RUNS "))
    assert any(path.startswith("/job/data/") for path in found["files"])
    assert any(path.startswith("/job/home/.keras/") for path in found["files"])
    return [(path, zlib.decompress(base64.b64decode(run))) for path, _, run in found["runs"]]


def _holding(runs: list[tuple[str, bytes]], labels: np.ndarray, whole: bool = False) -> list[str]:
    """Files with ``labels`` (or, unless ``whole``, any LABEL_CHUNK of them) as integers of
    any width and byte order: a run of bytes read every 1, 2, 4 or 8 bytes."""
    wanted = labels.astype(np.uint8)
    pieces = [wanted.tobytes()] if whole else [
        wanted[i:i + LABEL_CHUNK].tobytes() for i in range(0, len(wanted), LABEL_CHUNK)]
    return sorted({path for path, run in runs for width in (1, 2, 4, 8) for start in range(width)
                   if any(piece in run[start::width] for piece in pieces)})


@needs_docker
def test_the_hidden_labels_are_in_no_file_the_container_can_read(tmp_path, monkeypatch):
    truths = []

    def provision_and_keep_truth(*args, **kwargs):
        probe, truth = provision(*args, **kwargs)
        truths.append(truth)
        return probe, truth

    provision = grading.provision
    monkeypatch.setattr(grading, "provision", provision_and_keep_truth)
    notebook = write_notebook(tmp_path / "scan.ipynb", LABEL_SCAN)
    report = _grade("fashion_mnist_cnn", notebook, tmp_path / "out")
    assert report.execution.cells[0].status == "ok", report.execution.cells[0].error
    runs = _label_runs(tmp_path / "out" / "executed.ipynb")
    official = load_official("fashion_mnist", allow_download=False)
    spec = get_spec("fashion_mnist")
    # The scan finds labels where they are: the public held-out split's, as IDX files
    # (uint8) and as the probe's calibration labels (.npy, int64).
    heldout = public_split(official, heldout_size=spec.split.heldout, seed=spec.split.seed).test_y
    assert _holding(runs, heldout, whole=True)
    calibration = heldout[:assignments.load("fashion_mnist_cnn").spec.collect.models
                          .calibration_size]
    assert "/job/data/calibration_labels.npy" in _holding(runs, calibration, whole=True)
    # The hidden ones are nowhere: neither in the official order nor in the job's own.
    assert _holding(runs, official.test_y) == []
    assert _holding(runs, truths[0].labels) == []


@needs_docker
def test_kernel_suicide_is_reported_as_a_dead_kernel(tmp_path):
    for how in ("os._exit(3)", "os.kill(os.getpid(), 9)"):
        notebook = write_notebook(tmp_path / "die.ipynb", "import os\n" + how, "x = 1")
        report = _grade("autograd_derivative", notebook, tmp_path / how[:7])
        cells = report.execution.cells
        assert [c.status for c in cells] == ["kernel-died", "skipped"], how
        assert "kernel died" in cells[0].error
        assert report.status is Status.partial


@needs_docker
def test_killing_the_grader_agent_loses_only_the_students_own_run(tmp_path):
    notebook = write_notebook(tmp_path / "kill.ipynb", "import os\nos.kill(os.getppid(), 9)")
    report = _grade("autograd_derivative", notebook, tmp_path / "out")
    assert report.status in (Status.partial, Status.failed)
    assert report.score == 0
    assert _containers_left() == []


@needs_docker
def test_daemon_and_forged_outputs_change_nothing_nngrade_wrote(tmp_path):
    forger = """\
import json, os, subprocess, sys
code = '''
import json, os, time
forged = {"score": 10, "max_score": 10, "status": "graded"}
while True:
    for name in ("report.json", "report.md", "report.html", "grades.csv"):
        try:
            with open("/job/out/" + name, "w") as handle:
                json.dump(forged, handle)
        except OSError:
            pass
    time.sleep(0.01)
'''
subprocess.Popen([sys.executable, '-c', code], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
with open('report.json', 'w') as handle:
    json.dump({'score': 10, 'max_score': 10}, handle)
"""
    notebook = write_notebook(tmp_path / "forge.ipynb", forger, FORGER_OWN_WORK,
                              "import time\ntime.sleep(2)")
    out = tmp_path / "out"
    report = _grade("autograd_derivative", notebook, out)
    # What it earned itself: it runs (1) and f is right (2); grad_f is neither right (4)
    # nor autograd (3). The forged files say 10.
    assert (report.score, report.status) == (3, Status.graded)
    written = {name: (out / name).read_bytes() for name in ("report.json", "report.md")}
    time.sleep(2)
    assert {name: (out / name).read_bytes() for name in written} == written
    assert Report.model_validate_json(written["report.json"]).score == 3
    assert _containers_left() == []


# A partial solution: the right f, a wrong derivative computed by hand.
FORGER_OWN_WORK = """\
import torch


def f(x):
    return torch.sin(x ** 2) * torch.exp(-x / 3) + torch.log(1 + x ** 2)


def grad_f(x):
    return 2 * x
"""


@needs_docker
def test_flooding_stdout_at_the_file_descriptor_is_drained_and_capped(tmp_path, project_copy):
    assignment = _cheap(project_copy, "total_seconds: 120, cell_seconds: 90, output_kb: 64")
    notebook = write_notebook(tmp_path / "flood.ipynb", """\
import os
import stat
for _ in range(4000):
    os.write(1, b'x' * 65536)
for i in range(100_000):
    print('spam' * 10, i)
""")
    report = _grade(assignment, notebook, tmp_path / "out")
    assert report.execution.cells[0].status == "ok"
    assert (tmp_path / "out" / "executed.ipynb").stat().st_size < 200 * 1024


@needs_docker
def test_a_notebook_of_hundreds_of_megabytes_is_refused_before_running(tmp_path):
    notebook = tmp_path / "huge.ipynb"
    with notebook.open("wb") as handle:
        handle.write(b'{"cells": [')
        handle.truncate(300 * 2**20)
    result = subprocess.run(
        [sys.executable, "-m", "runner", "grade", "autograd_derivative", str(notebook),
         "--out", str(tmp_path / "out"), "--backend", "docker"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "over the 100 MiB limit" in result.stderr


@needs_docker
def test_keras_2_style_notebook_runs_on_tf_keras(tmp_path):
    notebook = write_notebook(tmp_path / "keras2.ipynb", """\
import os
import stat
os.environ['TF_USE_LEGACY_KERAS'] = '1'
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.datasets import fashion_mnist
from tensorflow.keras.utils import to_categorical
import tf_keras
assert keras.layers.Dense is tf_keras.layers.Dense and tf_keras.__version__.startswith('2.')
(x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
x_train, x_test = x_train[:6000] / 255.0, x_test / 255.0
y_train = to_categorical(y_train[:6000], 10)
""", """\
model = keras.models.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(128, activation='relu'),
    keras.layers.Dense(10, activation='softmax'),
])
model.compile(optimizer=keras.optimizers.Adam(lr=0.001), loss='categorical_crossentropy',
              metrics=['acc'])
model.fit(x_train, y_train, epochs=2, batch_size=128, verbose=0)
""")
    report = _grade("fashion_mnist_cnn", notebook, tmp_path / "out", mode=Mode.check)
    assert [c.status for c in report.execution.cells] == ["ok", "ok"], report.execution.cells
    assert [m.kind for m in report.models] == ["mlp"]
    assert report.models[0].framework == "keras"
    assert report.models[0].accuracy > 0.7


@needs_docker
def test_an_unreachable_engine_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    engine.client.cache_clear()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "runner", "grade", "autograd_derivative",
             str(write_notebook(tmp_path / "a.ipynb", *AUTOGRAD_GOOD)), "--out",
             str(tmp_path / "out"), "--backend", "docker"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "150"})
    finally:
        engine.client.cache_clear()
    assert result.returncode == 2
    assert "no Docker engine is reachable" in result.stderr
    assert "--backend local" in result.stderr


@needs_docker
def test_archive_with_climbing_paths_and_links_grades_only_its_notebook(tmp_path):
    notebook = write_notebook(tmp_path / "hw.ipynb", *AUTOGRAD_GOOD).read_bytes()
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("ivanov/hw.ipynb", notebook)
        bundle.writestr("../../../tmp/planted.py", b"print('planted')")
        link = zipfile.ZipInfo("ivanov/data")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "/usr/share/datasets/fashion-mnist")
    report = _grade("autograd_derivative", archive, tmp_path / "out")
    assert report.score == 10
    assert any("../../../tmp/planted.py: outside the archive" in n for n in report.notes)
    assert any("ivanov/data: a link" in n for n in report.notes)
    assert not Path("/tmp/planted.py").exists()


OFFERED_PROBE = """\
import os, pathlib
root = pathlib.Path(os.environ['TFDS_DATA_DIR'])
folder = root / 'oxford_iiit_pet' / '4.0.0'
shard = next(folder.glob('*-train.tfrecord-*'))
print('listing', sorted(p.name for p in root.iterdir()), shard.stat().st_size)
try:
    shard.write_bytes(b'changed')
    print('wrote the shared copy')
except OSError as error:
    print('read-only', error.errno)
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_offered_dataset_is_shared_read_only_with_the_notebook(
        backend, tmp_path, project_copy, monkeypatch):
    from runner.datasets.registry import DATASETS_ENV
    from runner.datasets.standin import write_standin

    standin = tmp_path / "standin"
    write_standin("oxford_iiit_pet", standin, train=30, test=10, heldout=10)
    monkeypatch.setenv(DATASETS_ENV, str(standin))
    spec = project_copy.assignments / "autograd_derivative" / "assignment.yaml"
    spec.write_text(spec.read_text() + "offered_datasets: [oxford_iiit_pet]\n")
    shard = next((standin / "oxford_iiit_pet" / "4.0.0").glob("*-train.tfrecord-*"))
    before = shard.read_bytes()
    for run in ("first", "second"):  # Docker fills its volume once and reuses it
        notebook = write_notebook(tmp_path / f"{run}.ipynb", *AUTOGRAD_GOOD, OFFERED_PROBE)
        report = _grade(assignments.load("autograd_derivative", project_copy), notebook,
                        tmp_path / run, backend=backend)
        assert report.score == 10
        executed = nbformat.read(tmp_path / run / "executed.ipynb", as_version=4)
        printed = "".join(out.get("text", "") for cell in executed.cells
                          for out in cell.get("outputs", []))
        # Only the dataset's folder is there, not the stand-in's dataset file beside it.
        assert f"listing ['oxford_iiit_pet'] {len(before)}" in printed
        assert "read-only 30" in printed and "wrote" not in printed  # EROFS
    assert shard.read_bytes() == before
    if backend == "docker":
        volumes = [v for v in engine.client().volumes.list(
            filters={"label": "org.nngrade.shared"})
            if str(standin.resolve()) in v.attrs["Labels"]["org.nngrade.shared"]]
        for volume in volumes:
            volume.remove()
        assert len(volumes) == 1
