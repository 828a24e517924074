"""Datasets as tensorflow_datasets prepares them: the stand-in is the real format (the
real ``tfds.load`` reads it), an instructor's copy is found and checked, and an
assignment that offers one gives it to notebooks whole, where ``tfds.load`` looks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from runner import assignments
from runner.datasets.errors import DatasetNotFound, MalformedDataFile
from runner.datasets.loader_calls import wrong_dataset_notes
from runner.datasets.registry import DATASETS_ENV, get_spec
from runner.datasets.standin import write_standin
from runner.datasets.tfds_prepared import INFO_FILE, find_prepared
from runner.datasets.tfrecord import (
    BadRecordFile,
    count_records,
    crc32c,
    encode_example,
    read_records,
    write_records,
)
from runner.grading import grade
from runner.i18n.render import render
from runner.provision import provision
from runner.report.model import Mode
from runner.sandbox import student_env
from runner.sandbox.backends import Bubblewrap, RunRequest, bubblewrap_works
from runner.sandbox.job import JobDir
from runner.spec import AssignmentSpec, Limits

ROOT = Path(__file__).resolve().parents[1]
PETS_NOTEBOOK = (ROOT / "tests/fixtures/notebooks/unet_segmentation/"
                 "keras_oxford_pets_tutorial.ipynb")
TRAIN, TEST = 60, 20

needs_sandbox = pytest.mark.skipif(
    not bubblewrap_works() and os.environ.get("CI") != "true",
    reason="bubblewrap is not usable here (apt-get install bubblewrap)")


@pytest.fixture
def pets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in of the pets dataset, declared under the real name ($NNGRADE_DATASETS)."""
    folder = tmp_path / "standin"
    write_standin("oxford_iiit_pet", folder, train=TRAIN, test=TEST, heldout=TEST)
    monkeypatch.setenv(DATASETS_ENV, str(folder))
    monkeypatch.delenv("TFDS_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/tensorflow_datasets of mine
    return folder


def test_crc32c_and_records_round_trip_and_damage_is_found(tmp_path: Path):
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    path = tmp_path / "a.tfrecord"
    records = [b"", b"one", bytes(range(256)) * 3]
    write_records(path, records)
    assert count_records(path) == 3 and list(read_records(path)) == records
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # a byte of the last record's data
    path.write_bytes(bytes(data))
    assert count_records(path) == 3  # lengths are whole
    with pytest.raises(BadRecordFile, match="damaged"):
        list(read_records(path))
    path.write_bytes(bytes(data[:-10]))
    with pytest.raises(BadRecordFile, match="cut off"):
        count_records(path)


def test_an_example_is_encoded_as_protobuf_writes_it():
    # Bytes go in a BytesList (1), integers in a packed Int64List (3), floats in a FloatList (2).
    assert encode_example({"a": b"x"}) == bytes(
        [10, 12, 10, 10, 10, 1, 97, 18, 5, 10, 3, 10, 1, 120])
    assert encode_example({"n": [1, 300]}) == bytes(
        [10, 14, 10, 12, 10, 1, 110, 18, 7, 26, 5, 10, 3, 1, 172, 2])
    assert encode_example({"f": 1.0})[-4:] == np.float32(1.0).tobytes()


TFDS_SCRIPT = """
import json, sys
sys.path.insert(0, {lib!r})
import nngrade_probe
nngrade_probe.install({config!r})
import numpy as np, tensorflow_datasets as tfds
dataset, info = tfds.load('oxford_iiit_pet:4.*.*', with_info=True)
example = next(iter(dataset['train']))
masks = set()
for ex in dataset['test']:
    masks |= set(np.unique(ex['segmentation_mask'].numpy()).tolist())
colab = tfds.load('oxford_iiit_pet', split='train', data_dir='/content/tfds')
print(json.dumps({{
    "sizes": [info.splits['train'].num_examples, info.splits['test'].num_examples],
    "test_read": sum(1 for _ in dataset['test']), "colab_read": sum(1 for _ in colab),
    "image": list(example['image'].shape), "mask": list(example['segmentation_mask'].shape),
    "classes": info.features['label'].num_classes, "species": info.features['species'].names,
    "box": example['head_bbox'].numpy().tolist(), "masks": sorted(masks),
    "name": example['file_name'].numpy().decode(),
    "loaders": nngrade_probe.STATE.loaders, "notes": nngrade_probe.STATE.notes}}))
"""


def test_the_real_tfds_load_reads_the_standin_offline_through_the_probe(pets: Path,
                                                                       tmp_path: Path):
    """The probe points tfds at the offered folder (no TFDS_DATA_DIR of the host's), and a
    notebook's own ``data_dir`` that lacks the dataset is redirected there with a note."""
    lib = tmp_path / "lib"
    shutil.copytree(ROOT / "runner" / "probe", lib / "nngrade_probe",
                    ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "probe.json"
    config.write_text(json.dumps({"out_dir": str(tmp_path),
                                  "tfds_data_dirs": {"oxford_iiit_pet": str(pets)}}))
    env = {key: value for key, value in os.environ.items() if key != "TFDS_DATA_DIR"}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "HTTPS_PROXY": "http://127.0.0.1:9"})
    result = subprocess.run(
        [student_env.locate().python, "-c", TFDS_SCRIPT.format(lib=str(lib), config=str(config))],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["sizes"] == [TRAIN, TEST] and seen["test_read"] == TEST
    assert seen["colab_read"] == TRAIN
    assert seen["image"][2] == 3 and seen["mask"][:2] == seen["image"][:2]
    assert seen["mask"][2] == 1 and seen["masks"] == [1, 2, 3]  # pet, background, border
    assert seen["classes"] == 37 and seen["species"] == ["Cat", "Dog"]
    assert 0 <= seen["box"][0] < seen["box"][2] <= 1 and seen["name"].endswith(".jpg")
    assert seen["loaders"] == ["tfds:oxford_iiit_pet"]
    (note,) = seen["notes"]
    assert note["id"] == "note.probe.tfds_data_dir"
    assert note["params"] == {"dataset": "oxford_iiit_pet", "data_dir": "/content/tfds"}


def test_an_instructors_folder_is_found_in_the_usual_places_and_checked(pets: Path,
                                                                       tmp_path: Path):
    spec = get_spec("oxford_iiit_pet")
    prepared = pets / "oxford_iiit_pet" / "4.0.0"
    assert find_prepared(spec) == prepared  # the stand-in's own folder
    elsewhere = tmp_path / "given" / "tensorflow_datasets"
    shutil.copytree(pets / "oxford_iiit_pet", elsewhere / "oxford_iiit_pet")
    for given in (elsewhere.parent, elsewhere, elsewhere / "oxford_iiit_pet" / "4.0.0"):
        assert find_prepared(spec, given) == elsewhere / "oxford_iiit_pet" / "4.0.0"
    shard = elsewhere / "oxford_iiit_pet/4.0.0/oxford_iiit_pet-train.tfrecord-00000-of-00001"
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.raises(MalformedDataFile) as cut:  # the given copy is wrong: no looking further
        find_prepared(spec, elsewhere)
    assert cut.value.path == shard and "cut off" in cut.value.problem
    shard.unlink()
    with pytest.raises(MalformedDataFile, match="missing"):
        find_prepared(spec, elsewhere)
    info = json.loads((prepared / INFO_FILE).read_text())
    (prepared / INFO_FILE).write_text(json.dumps({**info, "version": "3.2.0"}))
    with pytest.raises(MalformedDataFile, match=r"oxford_iiit_pet 3\.2\.0"):
        find_prepared(spec)


def test_the_real_declaration_refuses_a_standin_and_says_where_to_put_the_real_one(
        pets: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv(DATASETS_ENV)
    real = get_spec("oxford_iiit_pet")
    assert real.tfds is not None and real.tfds.splits == {"train": 3680, "test": 3669}
    with pytest.raises(MalformedDataFile, match=r"declares 3,680"):
        find_prepared(real, pets)  # 60 records where the real train split has 3,680
    with pytest.raises(DatasetNotFound) as missing:
        find_prepared(real, tmp_path / "nothing")
    text = str(missing.value)
    assert str(tmp_path / "nothing" / "oxford_iiit_pet" / "4.0.0") in text
    assert "tfds.load('oxford_iiit_pet:4.0.0')" in text and "--data-dir" in text


def _offering_spec(offered: list[str]) -> AssignmentSpec:
    base = assignments.load("unet_segmentation").spec
    return base.model_copy(update={"offered_datasets": offered})


def test_an_offered_dataset_is_shared_read_only_and_tfds_is_pointed_at_it(
        pets: Path, tmp_path: Path):
    job = JobDir.create(tmp_path / "job")
    probe, truth = provision(_offering_spec(["oxford_iiit_pet"]), job, Mode.check)
    prepared = (pets / "oxford_iiit_pet" / "4.0.0").resolve()
    assert job.shared == [prepared]  # that folder only, not the stand-in's dataset file
    assert probe["tfds_data_dirs"] == {"oxford_iiit_pet": str(pets.resolve())}
    assert not any(path.suffix == ".json" or "tfrecord" in path.name
                   for path in job.root.rglob("*") if path.is_file()
                   and "nngrade_probe" not in path.parts)  # nothing copied into the job
    assert truth.notes == []
    command = Bubblewrap().command(RunRequest(job, Limits(), []))
    bind = command.index(str(prepared))
    assert command[bind - 1] == "--ro-bind" and command[bind + 1] == str(prepared)


def test_an_offered_dataset_the_grader_lacks_is_a_note_not_a_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("TFDS_DATA_DIR", raising=False)
    monkeypatch.delenv("NNGRADE_DATA_DIR", raising=False)
    job = JobDir.create(tmp_path / "job")
    probe, truth = provision(_offering_spec(["oxford_iiit_pet"]), job, Mode.check)
    assert "tfds_data_dirs" not in probe and "eval_inputs" in probe["models"]
    assert job.shared == []
    (note,) = truth.notes
    assert note.id == "note.offered_missing"
    assert "no prepared oxford_iiit_pet 4.0.0 folder" in render(note, "en")


def test_the_graded_dataset_cannot_also_be_offered_whole():
    spec = assignments.load("unet_segmentation").spec.model_dump()
    with pytest.raises(ValueError, match="graded on, so it cannot also be offered"):
        AssignmentSpec.model_validate({**spec, "offered_datasets": ["textured_shapes"]})


def test_loading_an_offered_dataset_is_explained_and_another_tfds_one_named(pets: Path):
    graded = get_spec("textured_shapes")
    offered, other = wrong_dataset_notes(graded, ["tfds:oxford_iiit_pet", "tfds:cityscapes"],
                                         ["oxford_iiit_pet"])
    assert offered.id == "note.offered_loaded" and other.id == "note.wrong_dataset"
    assert "tfds.load('oxford_iiit_pet')" in render(offered, "en")
    assert "only" in render(offered, "en")
    assert "tfds.load('cityscapes')" in render(other, "en")
    (not_offered,) = wrong_dataset_notes(graded, ["tfds:oxford_iiit_pet"], [])
    assert not_offered.id == "note.wrong_dataset"


@pytest.mark.slow
@needs_sandbox
def test_the_tutorials_notebook_loads_the_offered_dataset_in_the_sandbox(
        pets: Path, tmp_path: Path, project_copy):
    """The TF segmentation tutorial's tfds.load, unmodified, without network: every cell
    runs; its pets model is not the graded one, and the report says so."""
    report = grade(assignments.load("unet_segmentation", project_copy), PETS_NOTEBOOK,
                   tmp_path / "out", mode=Mode.check, backend=Bubblewrap(), language="en")
    assert report.execution.cells and all(c.status == "ok" for c in report.execution.cells)
    points = {check.id: check.points for check in report.checks}
    assert points["executes"] == 1 and points["hidden_iou"] == 0
    loaded = [n for n in report.notes if "offers for experiments" in n]
    assert loaded and "tfds.load('oxford_iiit_pet')" in loaded[0]
    executed = (tmp_path / "out" / "executed.ipynb").read_text()
    assert f"{TRAIN} {TEST}" in executed  # the split sizes the notebook printed
