"""A report in another language, from what ``report.json`` keeps as data.

Check messages and the evaluation set are kept as catalogue ids with parameters, titles
as the spec's text per language, so nothing is graded again: the same report, rendered
anew. Notes written before notes were data are kept as they are.
"""

from __future__ import annotations

from runner.i18n.render import render
from runner.report.model import Report
from runner.spec import local_text


def in_language(report: Report, language: str) -> Report:
    """``report`` with every text it keeps as data rendered in ``language``."""
    checks = [check.model_copy(update={
        "title": local_text(check.titles, language) if check.titles else check.title,
        "message": render(check.detail, language) if check.detail else check.message})
        for check in report.checks]
    same_notes = len(report.note_details) == len(report.notes)
    models = [model.model_copy(update={key: render(detail, language)
                                       for key, detail in model.details.items()})
              for model in report.models]
    execution = report.execution
    if execution.stopped_detail is not None:
        execution = execution.model_copy(
            update={"stopped": render(execution.stopped_detail, language)})
    return report.model_copy(update={
        "language": language, "checks": checks, "execution": execution, "models": models,
        "notes": ([render(note, language) for note in report.note_details] if same_notes
                  else report.notes),
        "assignment_title": (local_text(report.assignment_titles, language)
                             if report.assignment_titles else report.assignment_title),
        "evaluation_set": (render(report.evaluation_set_detail, language)
                           if report.evaluation_set_detail else report.evaluation_set)})
