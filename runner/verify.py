"""Prove the graders: reference solutions earn full marks, fixtures their expected result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from runner.assignments import Assignment
from runner.datasets.errors import DatasetNotFound
from runner.errors import NngradeError
from runner.i18n.catalogue import SOURCE_LANGUAGE
from runner.i18n.render import Translator
from runner.paths import ProjectPaths
from runner.report.model import Mode, Report


@dataclass(frozen=True)
class Case:
    assignment: str
    notebook: Path
    kind: str  # "reference" or "fixture"
    expect_passed: tuple[str, ...] = ()
    expect_failed: tuple[str, ...] = ()
    expect_answered: tuple[str, ...] = ()  # rubric items whose written answer must be found
    expect_unanswered: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.notebook.name


@dataclass(frozen=True)
class CaseResult:
    case: Case
    report: Report | None
    problems: list[str]
    skipped: str | None = None  # why it could not run at all (its data is not here)

    @property
    def ok(self) -> bool:
        return not self.problems


def cases(assignment_id: str, paths: ProjectPaths) -> list[Case]:
    found = [Case(assignment_id, nb, "reference")
             for nb in sorted((paths.reference_solutions / assignment_id).glob("*.ipynb"))]
    for notebook in sorted((paths.fixtures / assignment_id).glob("*.ipynb")):
        expect = nbformat.read(notebook, as_version=4).metadata.get("nngrade", {}).get("expect", {})
        found.append(Case(assignment_id, notebook, "fixture",
                          tuple(expect.get("passed", ())), tuple(expect.get("failed", ())),
                          tuple(expect.get("answered", ())), tuple(expect.get("unanswered", ()))))
    return found


def judge(case: Case, report: Report, language: str = SOURCE_LANGUAGE) -> list[str]:
    """What is wrong with ``report`` for ``case`` (in ``language``); empty when it is as
    expected."""
    t = Translator(language)
    outcome = {check.id: check.passed for check in report.checks}
    answered = {answer.item: bool(answer.text) for answer in report.answers}
    if case.kind == "reference":
        missed = [c for c in report.checks if not c.passed]
        return [f"{c.id}: {c.points}/{c.max_points}: {c.message}" for c in missed] + [
            t("cli.verify.answer_not_found", item=item) for item, found in answered.items()
            if not found]
    problems = [t("cli.verify.expected_to_pass", check=check) for check in case.expect_passed
                if check in outcome and not outcome[check]]
    problems += [t("cli.verify.expected_to_fail", check=check) for check in case.expect_failed
                 if outcome.get(check)]
    problems += [t("cli.verify.answer_not_found", item=item) for item in case.expect_answered
                 if answered.get(item) is False]
    problems += [t("cli.verify.answer_found", item=item) for item in case.expect_unanswered
                 if answered.get(item)]
    unknown = (set(case.expect_passed + case.expect_failed) - set(outcome)) | (
        set(case.expect_answered + case.expect_unanswered) - set(answered))
    problems += [t("cli.verify.no_such_check", check=check) for check in sorted(unknown)]
    return problems


def run_case(case: Case, assignment: Assignment, out_root: Path,
             grade_one: Callable[..., Report], *, language: str = SOURCE_LANGUAGE) -> CaseResult:
    out = out_root / case.assignment / case.kind / case.notebook.stem
    try:
        report = grade_one(assignment, case.notebook, out, mode=Mode.grade)
    except DatasetNotFound as missing:  # not a verdict on the grader: said, not failed
        return CaseResult(case, None, [], skipped=missing.summary)
    except NngradeError as error:  # an unreadable notebook, a bad dataset file: this case
        return CaseResult(case, None, [error.in_language(language)[0].splitlines()[0]])
    return CaseResult(case, report, judge(case, report, language))
