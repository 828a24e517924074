"""Batch throughput and resume time: `nngrade batch` against grading one notebook.

    .venv/bin/python benchmarks/batch_throughput.py [--students N] [--jobs J] [--resume R]

1. One submission alone: the time of `nngrade grade` on the autograd reference solution.
2. A class of N copies (distinct bytes, same code) with --jobs 1 and with --jobs J:
   throughput in submissions per minute, and parallel efficiency, i.e.
   (time with 1 job) / (J x time with J jobs).
3. A finished class of R submissions graded again: the time to resume, which should be
   the intake and the gradebook lookups only.

Prints a Markdown table. Uses the default sandbox (Docker when the image is there).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.notebooks import AUTOGRAD_GOOD, write_notebook  # noqa: E402

NNGRADE = [sys.executable, "-m", "runner"]


def _class(folder: Path, students: int) -> Path:
    folder.mkdir(parents=True)
    for number in range(students):
        write_notebook(folder / f"student{number:03d}.ipynb", f"# student {number}",
                       *AUTOGRAD_GOOD)
    return folder


def _timed(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([*NNGRADE, *args], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--resume", type=int, default=100)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        one = write_notebook(tmp_path / "one.ipynb", *AUTOGRAD_GOOD)
        _timed("grade", "autograd_derivative", str(one), "--out", str(tmp_path / "warm"))
        single = _timed("grade", "autograd_derivative", str(one), "--out", str(tmp_path / "one"))
        small = _class(tmp_path / "small", options.students)
        serial = _timed("batch", "autograd_derivative", str(small), "--out",
                        str(tmp_path / "serial"), "--jobs", "1")
        parallel = _timed("batch", "autograd_derivative", str(small), "--out",
                          str(tmp_path / "parallel"), "--jobs", str(options.jobs))
        large = _class(tmp_path / "large", options.resume)
        first = _timed("batch", "autograd_derivative", str(large), "--out",
                       str(tmp_path / "large-out"), "--jobs", str(options.jobs))
        resume = _timed("batch", "autograd_derivative", str(large), "--out",
                        str(tmp_path / "large-out"))
    n, jobs = options.students, options.jobs
    print("| measure | value |")
    print("|---|---|")
    print(f"| one submission, `nngrade grade` | {single:.1f} s |")
    print(f"| {n} submissions, --jobs 1 | {serial:.1f} s ({60 * n / serial:.1f} per minute) |")
    print(f"| {n} submissions, --jobs {jobs} | {parallel:.1f} s "
          f"({60 * n / parallel:.1f} per minute) |")
    print(f"| parallel efficiency with {jobs} jobs | {serial / (jobs * parallel):.2f} |")
    print(f"| batch of {options.resume}, first run, --jobs {jobs} | {first:.1f} s |")
    print(f"| the same batch of {options.resume} again (resume, nothing to do) | "
          f"{resume:.1f} s |")


if __name__ == "__main__":
    main()
