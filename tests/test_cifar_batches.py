"""CIFAR's batch format: a stand-in in the real format, read on the host and by the loaders.

CIFAR-10 cannot be downloaded here, so these tests write a small stand-in with
``nngrade dataset standin``'s own code and prove that everything that reads the
real files reads it: nngrade's restricted reader, keras' ``load_batch`` and
torchvision's ``CIFAR10``, and the probe's offline loaders in the student
environment.
"""

from __future__ import annotations

import io
import json
import pickle
import shutil
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from runner.datasets import (
    ChecksumMismatch,
    DatasetNotFound,
    MalformedDataFile,
    get_spec,
    load_official,
    locate,
    public_cache,
)
from runner.datasets._batches import load_pickle, read_members
from runner.datasets.layouts import batches_dir, read_public
from runner.datasets.registry import DATASETS_ENV
from runner.datasets.standin import write_standin
from runner.probe import batches as probe_batches
from runner.sandbox import student_env

TRAIN, TEST, HELDOUT = 300, 60, 50


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in declared under the real name, found through $NNGRADE_DATASETS."""
    folder = tmp_path / "standin"
    write_standin("cifar10", folder, train=TRAIN, test=TEST, heldout=HELDOUT)
    monkeypatch.setenv(DATASETS_ENV, str(folder))
    monkeypatch.setenv("NNGRADE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NNGRADE_OFFLINE", "1")
    monkeypatch.delenv("NNGRADE_DATA_DIR", raising=False)
    return folder


def _extract(archive: Path, dest: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest / "cifar-10-batches-py"


def test_the_real_cifar10_missing_says_what_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGRADE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NNGRADE_OFFLINE", "1")
    monkeypatch.delenv(DATASETS_ENV, raising=False)
    with pytest.raises(DatasetNotFound) as raised:
        locate("cifar10", tmp_path / "empty")
    text = raised.value.message + raised.value.hint
    assert "cifar-10-python.tar.gz or its folder cifar-10-batches-py" in text
    assert "--data-dir" in text and "disabled by $NNGRADE_OFFLINE" in text


def test_the_standin_is_the_real_format_under_the_real_name(standin: Path):
    spec = get_spec("cifar10")
    assert spec.title == "CIFAR-10 (generated stand-in)"
    assert (standin / "cifar-10-python.tar.gz").is_file()
    official = load_official("cifar10")
    assert official.train_x.shape == (TRAIN, 32, 32, 3)
    assert official.test_x.shape == (TEST, 32, 32, 3)
    assert np.bincount(official.train_y).tolist() == [TRAIN // 10] * 10
    # The stand-in's files got a cache of their own, apart from the real dataset's.
    cached = locate("cifar10")
    assert cached.name.startswith("cifar10-") and cached.name != "cifar10"


def test_the_public_split_is_cut_from_the_training_batches_only(standin: Path):
    official = load_official("cifar10")
    public = read_public(public_cache("cifar10"), "cifar10")
    assert len(public.train_x) == TRAIN - HELDOUT and len(public.test_x) == HELDOUT
    assert np.bincount(public.test_y).tolist() == [HELDOUT // 10] * 10
    hidden = {image.tobytes() for image in official.test_x}
    assert not hidden & {image.tobytes() for image in public.train_x}
    assert not hidden & {image.tobytes() for image in public.test_x}


def test_an_archive_in_the_data_dir_is_verified_before_it_is_read(standin: Path, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(standin / "cifar-10-python.tar.gz", mine)
    shutil.move(standin / "cifar-10-python.tar.gz", tmp_path / "elsewhere.tar.gz")
    assert len(load_official("cifar10", mine).test_x) == TEST

    damaged = bytearray((mine / "cifar-10-python.tar.gz").read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (mine / "cifar-10-python.tar.gz").write_bytes(bytes(damaged))
    shutil.rmtree(tmp_path / "cache")
    with pytest.raises(ChecksumMismatch):
        locate("cifar10", mine)


def test_parallel_graders_unpack_the_same_archive_at_once(standin: Path):
    """``verify`` grades several notebooks of one assignment in threads of one process;
    each may be first to unpack the archive into the cache."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        found = list(pool.map(lambda _: locate("cifar10"), range(12)))
    assert len(set(found)) == 1
    assert len(load_official("cifar10").test_x) == TEST
    assert not list(found[0].glob(".*.part"))


def test_an_extracted_folder_is_found_and_each_file_checked(standin: Path, tmp_path):
    folder = _extract(standin / "cifar-10-python.tar.gz", tmp_path / "torchvision-root")
    assert locate("cifar10", tmp_path / "torchvision-root") == folder
    (folder / "test_batch").write_bytes((folder / "data_batch_1").read_bytes())
    with pytest.raises(ChecksumMismatch) as raised:
        locate("cifar10", tmp_path / "torchvision-root")
    assert "expected md5" in raised.value.message


def test_the_host_never_runs_pickled_code(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("pickled code ran",))

    with pytest.raises(MalformedDataFile) as raised:
        load_pickle(pickle.dumps({"data": Exploit()}), "evil_batch")
    assert "refusing to load builtins.print" in raised.value.message

    archive = tmp_path / "links.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        link = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
        info = tarfile.TarInfo("../data_batch_1")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(MalformedDataFile) as raised:
        read_members(archive, "cifar-10-batches-py", ["data_batch_1"])
    assert "lacks cifar-10-batches-py/data_batch_1" in raised.value.message


LOADERS_SCRIPT = """
import json, sys
sys.path.insert(0, {lib!r})
import nngrade_probe
nngrade_probe.install({config!r})
import torchvision
train = torchvision.datasets.CIFAR10({root!r}, train=True, download=True)
test = torchvision.datasets.CIFAR10('/proc/cannot-write-here', train=False, download=True)
from keras.src.datasets.cifar import load_batch
import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
raw, raw_labels = load_batch({batch!r})
print(json.dumps({{
    "torchvision": [list(train.data.shape), list(test.data.shape), train.classes[:2],
                    int(train.data[0, 5, 7, 1]), train.targets[:5]],
    "keras": [list(x_train.shape), list(y_train.shape), str(x_train.dtype), str(y_train.dtype),
              int(x_train[0, 5, 7, 1]), y_train[:5, 0].tolist(), list(x_test.shape)],
    "keras_load_batch": [list(raw.shape), int(raw[0, 1, 5, 7]), list(raw_labels[:5])],
    "notes": nngrade_probe.STATE.notes}}))
"""


def test_unmodified_loaders_read_the_public_split_offline_in_the_student_environment(
        standin: Path, tmp_path: Path):
    """torchvision's CIFAR10 (md5 checks kept) and keras' load_data(), as notebooks call them."""
    spec = get_spec("cifar10")
    folder = batches_dir(public_cache("cifar10"), spec)
    public = read_public(folder.parent, spec)
    lib = tmp_path / "lib"
    shutil.copytree(Path(probe_batches.__file__).parent, lib / "nngrade_probe",
                    ignore=shutil.ignore_patterns("__pycache__"))
    served = {"folder": str(folder), "shape": [32, 32, 3], "label_key": "labels",
              "train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"],
              "meta": "batches.meta"}
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"out_dir": str(tmp_path), "torchvision_batches": {
        "CIFAR10": served}, "keras_batches": {"cifar10": served}}))
    script = LOADERS_SCRIPT.format(lib=str(lib), config=str(config), root=str(tmp_path / "data"),
                                   batch=str(folder / "data_batch_1"))
    result = subprocess.run([student_env.locate().python, "-c", script], capture_output=True,
                            text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    n_train = TRAIN - HELDOUT
    assert seen["torchvision"] == [[n_train, 32, 32, 3], [HELDOUT, 32, 32, 3],
                                   ["airplane", "automobile"], int(public.train_x[0, 5, 7, 1]),
                                   public.train_y[:5].tolist()]
    assert seen["keras"] == [[n_train, 32, 32, 3], [n_train, 1], "uint8", "uint8",
                             int(public.train_x[0, 5, 7, 1]), public.train_y[:5].tolist(),
                             [HELDOUT, 32, 32, 3]]
    assert seen["keras_load_batch"][1] == int(public.train_x[0, 5, 7, 1])
    assert (tmp_path / "data" / "cifar-10-batches-py" / "test_batch").is_file()
    assert any(note["id"] == "note.probe.root_not_writable"
               and "/proc/cannot-write-here" in note["params"]["root"] for note in seen["notes"])
