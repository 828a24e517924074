"""Shared fixtures: the project's real assignments, and a copy to break on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner.paths import ProjectPaths

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project_copy(tmp_path: Path) -> ProjectPaths:
    """A copy of assignments/ under tmp_path, so a test can corrupt a spec."""
    shutil.copytree(ROOT / "assignments", tmp_path / "assignments")
    return ProjectPaths(tmp_path)


@pytest.fixture(autouse=True)
def _english_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped assignments are Russian; the suite's assertions read English, so tests
    run with ``$NNGRADE_LANG=en`` and the tests of other languages set their own."""
    monkeypatch.setenv("NNGRADE_LANG", "en")
