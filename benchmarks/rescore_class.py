"""Rescoring a class of 100 after a threshold changed, against grading it again.

Grades a few real student notebooks of ``lstm_airline_passengers`` with ``nngrade batch``
(local sandbox), then makes a class of 100 already-graded submissions from them (each
student folder and gradebook row copied under a new name: what rescoring reads is what
a batch of 100 leaves), changes the forecast threshold in a copy of the assignments,
and times ``nngrade rescore`` on the whole class. Prints one Markdown row: the time to
grade one notebook in the batch (mean), what regrading 100 would take at that rate, and
the rescore's time.

    .venv/bin/python benchmarks/rescore_class.py [STUDENTS]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests/fixtures/notebooks/lstm_airline_passengers"
NOTEBOOKS = ["torch_drive_standardised", "torch_values_content_path", "colab_keras_lookback"]


def _nngrade(home: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True,
                          text=True, env={**os.environ, "NNGRADE_HOME": str(home),
                                          "NNGRADE_LANG": "en", "COLUMNS": "200"})
    if done.returncode:
        raise SystemExit(done.stdout + done.stderr)
    return done.stdout


def main(students: int = 100) -> None:
    sys.path.insert(0, str(ROOT))
    from runner.batch.class_files import read_class_info, write_class_info
    from runner.batch.gradebook import Gradebook
    from runner.batch.run import student_folder

    with tempfile.TemporaryDirectory(prefix="nngrade-rescore-") as tmp:
        home = Path(tmp) / "course"
        for folder in ("assignments", "datasets"):
            shutil.copytree(ROOT / folder, home / folder)
        submissions = Path(tmp) / "submissions"
        submissions.mkdir()
        for name in NOTEBOOKS:
            shutil.copy(FIXTURES / f"{name}.ipynb", submissions / f"{name}.ipynb")
        out = Path(tmp) / "class"
        started = time.monotonic()
        _nngrade(home, "batch", "lstm_airline_passengers", str(submissions), "--out", str(out))
        per_notebook = (time.monotonic() - started) / len(NOTEBOOKS)

        info = read_class_info(out)
        book = Gradebook(info.gradebook)
        graded = book.all(info.assignment)
        names = []
        for number in range(students):
            source = graded[number % len(graded)]
            name = f"student{number:03d}"
            folder = student_folder(out, name)
            if not folder.exists():
                shutil.copytree(out / source.report_dir, folder)
                book.put(source.__class__(**{**source.__dict__, "student": name,
                                             "report_dir": str(folder.relative_to(out)),
                                             "graded_at": ""}))
            names.append(name)
        write_class_info(out, info.model_copy(update={"students": names}))

        spec = home / "assignments/lstm_airline_passengers/assignment.yaml"
        text = spec.read_text(encoding="utf-8")
        changed = text.replace("target: 80", "target: 60")
        if changed == text:
            raise SystemExit("the forecast check's target is no longer 80: update this script")
        spec.write_text(changed, encoding="utf-8")
        started = time.monotonic()
        printed = _nngrade(home, "rescore", str(out))
        rescore = time.monotonic() - started
        print(printed.strip().splitlines()[-1])
        print("| students | grade one notebook (s, mean of the batch) | regrade all (s, estimated) "
              "| rescore all (s, whole command) |")
        print("|---|---|---|---|")
        print(f"| {students} | {per_notebook:.1f} | {per_notebook * students:.0f} "
              f"| {rescore:.1f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
