"""A graded class of `lstm_airline_passengers` to review, made without running notebooks.

Each student's report holds the written answer nngrade finds in a real notebook (the
assignment's own fixtures, and hostile ones), beside automatic checks; the "executed"
notebook carries outputs as a run leaves them, a plot and an HTML output with a script
among them. The gradebook rows are what ``nngrade batch`` writes. Tests of the review
pages, the class files and rescoring start from here; the end-to-end test grades real
notebooks instead.
"""

from __future__ import annotations

import base64
import copy
import io
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

from runner import assignments
from runner.batch.class_files import ClassInfo, write_class_files, write_class_info
from runner.batch.gradebook import Grade, Gradebook, check_rows, default_url
from runner.batch.run import student_folder
from runner.grading import written_answers
from runner.report.model import (
    CellOutcome,
    CheckOutcome,
    Execution,
    Mode,
    Report,
    SandboxInfo,
    Status,
)
from runner.report.write import write_report

ASSIGNMENT = "lstm_airline_passengers"
HOSTILE_ANSWER = ('<script>document.title = "pwned"</script>'
                  '<a id="js" href="javascript:document.title=\'pwned\'">ссылка</a> '
                  '<img src=x onerror="document.title=\'pwned\'"> RMSE 30.')


def plot_png() -> str:
    image = Image.new("RGB", (60, 40), (30, 90, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def student_notebook(answer: str | None, *, heading: str = "## Выводы") -> nbformat.NotebookNode:
    """A short student notebook: training, a plot, and ``answer`` under ``heading``."""
    train = new_code_cell("history = model.fit(x, y, epochs=50)\nprint(rmse)")
    plot = new_code_cell("plt.plot(forecast)")
    cells = [new_markdown_cell("# LSTM на ряде пассажиропотока"), train, plot]
    if answer is not None:
        cells.append(new_markdown_cell(f"{heading}\n\n{answer}"))
    return new_notebook(cells=cells)


def executed(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``notebook`` as a run leaves it: outputs, among them a script a browser would run."""
    run = copy.deepcopy(notebook)
    for cell in run.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [new_output("stream", name="stdout", text="RMSE: 31.5\n")]
        if "plot" in cell.source:
            cell.outputs = [
                new_output("display_data", data={"image/png": plot_png(),
                                                 "text/plain": "<Figure size 640x480>"}),
                new_output("display_data", data={
                    "text/html": '<script>document.title = "pwned"</script>',
                    "application/javascript": 'document.title = "pwned"'})]
    return run


def make_class(out: Path, notebooks: dict[str, nbformat.NotebookNode], *,
               scores: dict[str, float] | None = None) -> tuple[Gradebook, ClassInfo]:
    """Write a graded class into ``out``: reports, executed notebooks, gradebook, class files."""
    spec = assignments.load(ASSIGNMENT).spec
    book = Gradebook(default_url(out))
    for number, (student, notebook) in enumerate(notebooks.items()):
        folder = student_folder(out, student)
        folder.mkdir(parents=True, exist_ok=True)
        score = (scores or {}).get(student, 8.0)
        share = score / spec.max_score  # every check gets the same share of its points
        checks = [CheckOutcome(id=c.id, title=str(c.title), points=round(c.points * share, 2),
                               max_points=c.points, passed=share >= 1, message="измерено")
                  for c in spec.checks]
        report = Report(
            language="ru", assignment=spec.id, assignment_title="LSTM", notebook="hw5.ipynb",
            submission_sha256=f"{abs(hash(student)):064d}"[:64], grader_version="test",
            mode=Mode.grade, status=Status.graded,
            score=round(sum(c.points for c in checks), 2),
            max_score=sum(c.max_points for c in checks), task="forecasting",
            evaluation_set="24 скрытых месяца", checks=checks,
            answers=written_answers(spec, notebook, "ru"),
            execution=Execution(seconds=12.0, cells=[
                CellOutcome(index=i, status="ok", seconds=1.0)
                for i, c in enumerate(notebook.cells) if c.cell_type == "code"]),
            sandbox=SandboxInfo(backend="bubblewrap", isolated=True, network=False),
            created=datetime.now(UTC))
        write_report(report, folder)
        nbformat.write(executed(notebook), folder / "executed.ipynb")
        book.put(Grade(assignment=spec.id, student=student, grader_version="test",
                       status="graded", score=report.score, max_score=report.max_score,
                       checks=check_rows(checks),
                       submission_sha256=report.submission_sha256,
                       report_dir=str(folder.relative_to(out)), seconds=12.0,
                       participant=str(1000 + number)))
    info = ClassInfo(assignment=spec.id, gradebook=book.url, language="ru",
                     students=sorted(notebooks))
    write_class_info(out, info)
    write_class_files(spec, book, out, info)
    return book, info
