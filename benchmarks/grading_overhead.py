"""Grading overhead: `nngrade grade` (local and Docker sandboxes) against plain nbclient.

Plain execution gets the same offline data (a HOME holding the public split's keras cache
and a `data/` folder with torchvision's raw files), so both sides do the same training;
the difference is what nngrade adds: sandbox start, data provisioning, model tracking,
measuring every model on 10,000 hidden images, scoring and reports. The Docker column
adds the container's start, the job's copy in and out, and the removal; it is left out
when no engine or no grading image is there.

    .venv/bin/python benchmarks/grading_overhead.py [NOTEBOOK ASSIGNMENT]...

Without arguments it measures the autograd reference solution and the small PyTorch and
Keras notebooks of the test suite. One warm-up, then one run each; prints a Markdown table.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runner import assignments  # noqa: E402
from runner.datasets import keras_dir, public_cache, torchvision_raw_dir  # noqa: E402
from runner.grading import grade  # noqa: E402
from runner.notebook import neutralise, read_submission  # noqa: E402
from runner.report.model import Mode  # noqa: E402
from runner.sandbox import engine  # noqa: E402
from runner.sandbox.select import choose_backend  # noqa: E402
from tests.notebooks import KERAS_SMALL, TORCH_SMALL, write_notebook  # noqa: E402


def plain_seconds(notebook: Path) -> float:
    """nbclient alone, in a scratch folder with the public data where loaders look."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dataset = "fashion_mnist"
        public = public_cache(dataset)
        shutil.copytree(keras_dir(public, dataset), keras_dir(work / "home", dataset))
        shutil.copytree(torchvision_raw_dir(public, dataset),
                        torchvision_raw_dir(work / "data", dataset))
        submission = read_submission(notebook)
        neutralise(submission)  # nngrade's own rewriting, so both sides run the same code
        client = NotebookClient(submission.notebook, timeout=3600,
                                resources={"metadata": {"path": str(work)}})
        started = time.perf_counter()
        client.execute(env={**os.environ, "HOME": str(work / "home")})
        return time.perf_counter() - started


def graded_seconds(notebook: Path, assignment_id: str, backend_name: str) -> tuple[float, str]:
    backend = choose_backend(backend_name, allow_unsandboxed=False)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = grade(assignments.load(assignment_id), notebook, Path(tmp) / "out",
                       mode=Mode.grade, backend=backend)
        return time.perf_counter() - started, f"{report.score:g}/{report.max_score:g}"


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cases = list(zip(map(Path, argv[::2]), argv[1::2], strict=True)) or [
            (ROOT / "reference_solutions/autograd_derivative/solution.ipynb",
             "autograd_derivative"),
            (write_notebook(Path(tmp) / "torch_small.ipynb", *TORCH_SMALL), "fashion_mnist_cnn"),
            (write_notebook(Path(tmp) / "keras_small.ipynb", *KERAS_SMALL), "fashion_mnist_cnn"),
        ]
        public_cache("fashion_mnist")  # built once, outside the timings
        plain_seconds(cases[0][0])  # warm the OS file cache (torch, TF) before timing anything
        docker = engine.engine_reachable() and engine.has_image(engine.image_name())
        print("| notebook | plain nbclient (s) | local sandbox (s) | Docker (s) | local / plain "
              "| Docker / plain | Docker / local | scores |")
        print("|---|---|---|---|---|---|---|---|")
        for notebook, assignment_id in cases:
            plain = plain_seconds(notebook)
            local, local_score = graded_seconds(notebook, assignment_id, "local")
            if docker:
                contained, score = graded_seconds(notebook, assignment_id, "docker")
                columns = (f"{contained:.1f} | {local / plain:.2f} | {contained / plain:.2f} | "
                           f"{contained / local:.2f} | {local_score}, {score}")
            else:
                columns = f"- | {local / plain:.2f} | - | - | {local_score}"
            print(f"| {notebook.name} | {plain:.1f} | {local:.1f} | {columns} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
