"""Grading overhead of two versions of nngrade, side by side in one run.

Checks out ``REF`` (a commit, tag or branch) into a temporary git worktree and runs
``benchmarks/grading_overhead.py`` of each version on the same notebooks, turn about
(old, new, old, new ...), so both see the same machine load. Prints one Markdown row
per notebook: plain nbclient, ``nngrade grade`` and their ratio for each version.

    .venv/bin/python benchmarks/overhead_versions.py REF [NOTEBOOK ASSIGNMENT]...

Default notebook: the PyTorch reference of fashion_mnist_cnn. Both versions run with this
checkout's virtual environment and student environment, in the local sandbox; the
notebook file is this checkout's, so only the grader differs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDENT_PYTHON = "NNGRADE_STUDENT_PYTHON"
DEFAULT_CASE = ("reference_solutions/fashion_mnist_cnn/pytorch.ipynb", "fashion_mnist_cnn")


def _row(root: Path, notebook: Path, assignment_id: str) -> list[str]:
    """Cells of the benchmark's Markdown row for ``notebook``, as ``root``'s version prints it."""
    # Both versions run notebooks with this checkout's student environment.
    env = {**os.environ, STUDENT_PYTHON: os.environ.get(STUDENT_PYTHON) or str(
        ROOT / ".student-env" / "bin" / "python")}
    result = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "grading_overhead.py"), str(notebook),
         assignment_id], capture_output=True, text=True, cwd=root, check=False, env=env)
    rows = [line for line in result.stdout.splitlines() if line.startswith(f"| {notebook.name} ")]
    if result.returncode or not rows:
        raise SystemExit(f"{root}: the benchmark failed:\n{result.stderr[-3000:]}")
    return [cell.strip() for cell in rows[-1].strip("|").split("|")]


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    ref, rest = argv[0], argv[1:]
    cases = list(zip(rest[::2], rest[1::2], strict=True)) or [DEFAULT_CASE]
    with tempfile.TemporaryDirectory(prefix="nngrade-old-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), ref],
                       check=True, capture_output=True)
        try:
            print(f"| notebook | {ref}: plain (s) | {ref}: grade (s) | {ref}: ratio "
                  "| this: plain (s) | this: grade (s) | this: ratio |")
            print("|---|---|---|---|---|---|---|")
            for notebook, assignment_id in cases:
                path = (ROOT / notebook).resolve()
                before = _row(old, path, assignment_id)
                after = _row(ROOT, path, assignment_id)
                # Columns of grading_overhead.py: notebook, plain, local, Docker, local / plain
                print(f"| {path.name} | {before[1]} | {before[2]} | {before[4]} | {after[1]} "
                      f"| {after[2]} | {after[4]} |", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           check=False, capture_output=True)


if __name__ == "__main__":
    main(sys.argv[1:])
