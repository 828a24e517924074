"""The probe serves the public data where notebooks look for it, and only there."""

from __future__ import annotations

import builtins
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from runner.probe import files
from runner.probe.state import STATE
from runner.sandbox import student_env


@pytest.fixture
def public(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "work" / "airline-passengers.csv"
    copy.parent.mkdir()
    copy.write_text("Month,Passengers\n1949-01,112\n")
    (tmp_path / "work" / "sample_data").mkdir()
    (tmp_path / "work" / "sample_data" / "notes.txt").write_text("colab")
    monkeypatch.setattr(STATE, "config", {"public_files": {copy.name: str(copy)}})
    monkeypatch.setattr(STATE, "notes", [])
    monkeypatch.setattr(files, "_working_folder", str(tmp_path / "work"))
    return copy


def test_a_drive_path_of_a_public_file_reads_the_public_copy(public: Path):
    opener = files.falling_back(builtins.open)
    with opener("/content/drive/MyDrive/data/airline-passengers.csv") as handle:
        assert handle.read().startswith("Month,Passengers")
    assert any(note["id"] == "note.probe.public_copy"
               and note["params"]["asked"].startswith("/content/drive/MyDrive")
               for note in STATE.notes)


def test_colab_paths_lead_to_the_working_folder(public: Path):
    with files.falling_back(builtins.open)("/content/sample_data/notes.txt") as handle:
        assert handle.read() == "colab"


def test_writing_and_unknown_files_are_never_redirected(public: Path, tmp_path: Path):
    opener = files.falling_back(builtins.open)
    with pytest.raises(FileNotFoundError):
        opener("/content/drive/MyDrive/other.csv")
    with pytest.raises(FileNotFoundError):
        opener(tmp_path / "missing" / "airline-passengers.csv", "w")
    # An existing file of the same name is the notebook's own and is read as it is.
    own = tmp_path / "airline-passengers.csv"
    own.write_text("mine")
    with opener(own) as handle:
        assert handle.read() == "mine"


def test_a_url_of_a_public_file_is_answered_from_the_copy(public: Path):
    url = "https://raw.githubusercontent.com/jbrownlee/Datasets/master/airline-passengers.csv"
    with files.urlopen_public(url) as response:
        assert response.read() == public.read_bytes()
        assert response.headers["Content-Length"] == str(public.stat().st_size)


PANDAS_SCRIPT = """
import json, sys
sys.path.insert(0, {lib!r})
import nngrade_probe.files as files
from nngrade_probe.state import STATE
STATE.config = {{"public_files": {{"airline-passengers.csv": {copy!r}}}}}
files.install_files()
import pandas
url = "https://raw.githubusercontent.com/jbrownlee/Datasets/master/airline-passengers.csv"
print(json.dumps([pandas.read_csv(url)["Passengers"].tolist(),
                  pandas.read_csv("/content/drive/MyDrive/airline-passengers.csv",
                                  usecols=[1]).values.ravel().tolist()]))
"""


def test_pandas_in_the_student_environment_reads_the_copy_from_a_url_and_a_drive_path(
        public: Path, tmp_path: Path):
    """As in a notebook: the probe installed, then pandas, with no network."""
    python = student_env.locate().python
    lib = tmp_path / "lib"
    shutil.copytree(Path(files.__file__).parent, lib / "nngrade_probe",
                    ignore=shutil.ignore_patterns("__pycache__"))
    script = PANDAS_SCRIPT.format(lib=str(lib), copy=str(public))
    result = subprocess.run([python, "-c", script], capture_output=True, text=True,
                            timeout=300, cwd=public.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [[112], [112]]


def test_kaggles_csv_form_is_built_from_the_public_split_wherever_it_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from runner.datasets._idx import write_idx

    images = np.arange(3 * 2 * 2, dtype=np.uint8).reshape(3, 2, 2) * 20
    labels = np.array([7, 0, 9], dtype=np.uint8)
    write_idx(images, tmp_path / "images", compress=False)
    write_idx(labels, tmp_path / "labels", compress=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(STATE, "config", {"public_tables": {"fashion-mnist_train.csv": {
        "images": str(tmp_path / "images"), "labels": str(tmp_path / "labels")}}})
    monkeypatch.setattr(STATE, "notes", [])
    with files.falling_back(builtins.open)(
            "/content/drive/MyDrive/data/fashion-mnist_train.csv") as handle:
        lines = handle.read().splitlines()
    assert lines == ["label,pixel1,pixel2,pixel3,pixel4", "7,0,20,40,60", "0,80,100,120,140",
                     "9,160,180,200,220"]
    assert (tmp_path / "home" / ".cache" / "nngrade-tables" / "fashion-mnist_train.csv").is_file()
    with pytest.raises(FileNotFoundError):  # not listed: not built
        files.falling_back(builtins.open)("/content/drive/MyDrive/fashion-mnist_test.csv")
