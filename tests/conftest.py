"""Shared fixtures: the project's real assignments, and a copy to break on purpose."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
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


@pytest.fixture
def postgres_url():
    """A real PostgreSQL server of its own, on a Unix socket, for the length of one test."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins or shutil.which("runuser") is None or importlib.util.find_spec("psycopg") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL (apt-get install postgresql) or psycopg is missing")
        pytest.skip("no PostgreSQL server binaries or psycopg here")
    bin_dir = bins[-1].parent
    root = Path(tempfile.mkdtemp(prefix="nngrade-pg-"))
    root.chmod(0o755)
    subprocess.run(["chown", "postgres:", str(root)], check=True)

    def as_postgres(*command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                       capture_output=True, timeout=120)

    as_postgres(str(bin_dir / "initdb"), "-D", f"{root}/data", "-A", "trust", "-U", "postgres")
    as_postgres(str(bin_dir / "pg_ctl"), "-D", f"{root}/data", "-w", "-l", f"{root}/log",
                "-o", f"-k {root} -p 55432 -c listen_addresses=''", "start")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={root}&port=55432"
    finally:
        as_postgres(str(bin_dir / "pg_ctl"), "-D", f"{root}/data", "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium (tests/chromium.py), one per test module, with a fresh profile."""
    from playwright.sync_api import sync_playwright

    from tests.chromium import CHROMIUM, FLAGS

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM, headless=True,
            args=FLAGS)
        yield launched
        launched.close()
