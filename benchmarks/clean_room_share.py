"""What the clean room costs: a notebook graded with it and without it, side by side.

The clean room (export every trained model to ONNX after the last cell, then run the
graphs in a second sandbox) must not double the cost of grading; its target is under
10 % of the notebook's time in the sandbox. This grades each notebook in the local
sandbox twice, turn about: with ``collect.models.clean_room: false`` (scored on what
the kernel measured; the models are still exported, for the report's graphs) and with
it on, and prints one
Markdown row per notebook: the sandbox's time both ways, the export's seconds (inside
the sandbox's time), the clean room's own run, their share of the sandbox's time, and
the whole grading's wall time both ways.

    .venv/bin/python benchmarks/clean_room_share.py [NOTEBOOK ASSIGNMENT]...

Default: the PyTorch reference of fashion_mnist_cnn (four models).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runner import assignments  # noqa: E402
from runner.grading import grade  # noqa: E402
from runner.paths import ProjectPaths  # noqa: E402
from runner.report.model import Mode, Report  # noqa: E402
from runner.sandbox.select import choose_backend  # noqa: E402

DEFAULT_CASE = ("reference_solutions/fashion_mnist_cnn/pytorch.ipynb", "fashion_mnist_cnn")


def _without_clean_room(root: Path, assignment_id: str) -> ProjectPaths:
    """A copy of assignments/ whose spec for ``assignment_id`` switches the clean room off."""
    shutil.copytree(ROOT / "assignments", root / "assignments")
    spec = root / "assignments" / assignment_id / "assignment.yaml"
    text = spec.read_text(encoding="utf-8")
    marker = "  models:\n"
    if marker not in text:
        raise SystemExit(f"{spec}: no collect.models section, so no clean room to compare")
    head, _, rest = text.partition(marker)
    spec.write_text(f"{head}{marker}    clean_room: false\n{rest}", encoding="utf-8")
    return ProjectPaths(root)


def _graded(notebook: Path, paths: ProjectPaths | None, assignment_id: str
            ) -> tuple[float, Report]:
    loaded = assignments.load(assignment_id, paths) if paths else assignments.load(assignment_id)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = grade(loaded, notebook, Path(tmp) / "out", mode=Mode.grade,
                       backend=choose_backend("local", allow_unsandboxed=False))
        return time.perf_counter() - started, report


def main(argv: list[str]) -> None:
    cases = list(zip(map(Path, argv[::2]), argv[1::2], strict=True)) or [
        (ROOT / DEFAULT_CASE[0], DEFAULT_CASE[1])]
    print("| notebook | without: sandbox (s) | with: sandbox (s) | export (s) | clean room (s) "
          "| share of sandbox | without: grade (s) | with: grade (s) | scores |")
    print("|---|---|---|---|---|---|---|---|---|")
    for notebook, assignment_id in cases:
        with tempfile.TemporaryDirectory() as tmp:
            off = _without_clean_room(Path(tmp), assignment_id)
            wall_off, report_off = _graded(notebook, off, assignment_id)
            wall_on, report_on = _graded(notebook, None, assignment_id)
        run_off, run_on = report_off.execution, report_on.execution
        export, clean = run_on.export_seconds or 0.0, run_on.clean_room_seconds or 0.0
        share = (export + clean) / run_on.seconds
        print(f"| {notebook.name} | {run_off.seconds:.1f} | {run_on.seconds:.1f} | {export:.1f} "
              f"| {clean:.1f} | {share:.1%} | {wall_off:.1f} | {wall_on:.1f} | "
              f"{report_off.score:g}, {report_on.score:g} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
