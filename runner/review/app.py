"""`nngrade review`: the instructor's web pages for grading written answers.

Server-rendered pages over a class's output folder and its gradebook. For one rubric
item at a time the instructor sees each student's answer, the outputs of the cells it
refers to and the automatic checks, picks a level or enters points, writes or reuses a
comment, and moves on by keyboard. Each grade is saved at once in the gradebook (with
who and when) and the class files are rewritten, so ``grades.csv`` and the Moodle
worksheet always carry it.

What a student wrote is untrusted: Jinja escapes every value, the executed notebook's
outputs are shown only as text or as images the host redrew, and every page carries a
Content-Security-Policy that lets no script run but the page's own (by nonce). Forms
carry a token of this server's run, so another site cannot post a grade through the
instructor's browser. On an address other than the loopback every request needs the
secret (once as ``?secret=``, then an HttpOnly cookie).
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from runner import assignments
from runner.batch.class_files import (
    ClassInfo,
    gradebook_url,
    read_class_info,
    write_class_files,
)
from runner.batch.gradebook import Gradebook, ManualGrade, StaleRevision
from runner.i18n.render import Translator
from runner.review.cells import read_notebook, shown_cells
from runner.review.state import ItemState, ReportCache, StudentState, class_state
from runner.spec import AssignmentSpec, RubricItem, local_text

COOKIE = "nngrade_review"
GRADER_COOKIE = "nngrade_grader"


@dataclass
class ReviewSettings:
    out_dir: Path
    grader: str  # the default name grades are saved under
    secret: str | None = None  # required on every request when set
    gradebook: str | None = None  # overrides class.json's


class _Class:
    """The class being reviewed: spec, gradebook and a cache of the students' reports."""

    def __init__(self, settings: ReviewSettings) -> None:
        self.out = settings.out_dir
        self.info: ClassInfo = read_class_info(self.out)
        self.spec: AssignmentSpec = assignments.load(self.info.assignment).spec
        self.book = Gradebook(gradebook_url(self.info, settings.gradebook))
        self.cache = ReportCache()
        self.lock = threading.Lock()  # class files are rewritten by one request at a time

    def states(self) -> list[StudentState]:
        students = set(self.info.students) if self.info.students else None
        return [s for s in class_state(self.spec, self.book, self.out, students, self.cache)
                if s.report is not None]

    def item(self, item_id: str) -> RubricItem | None:
        return next((item for item in self.spec.rubric if item.id == item_id), None)

    def rewrite(self, student: str | None = None, *, summary: bool = False) -> None:
        with self.lock:
            write_class_files(self.spec, self.book, self.out, self.info,
                              results_for={student} if student else set(), summary=summary,
                              cache=self.cache)


def create_app(settings: ReviewSettings) -> FastAPI:
    """The review application for the class in ``settings.out_dir``."""
    klass = _Class(settings)
    t = Translator(klass.info.language)
    csrf = secrets.token_urlsafe(24)
    templates = Environment(loader=PackageLoader("runner.review", "templates"),
                            autoescape=select_autoescape(default=True, default_for_string=True))
    templates.globals["t"] = t

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        klass.rewrite(summary=True)  # the summary, too slow to redraw at every grade

    app = FastAPI(title="nngrade review", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.klass = klass

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable) -> Response:
        nonce = secrets.token_urlsafe(16)
        request.state.nonce = nonce
        if settings.secret is not None:
            given = (request.query_params.get("secret") or request.cookies.get(COOKIE)
                     or request.headers.get("authorization", "").removeprefix("Bearer "))
            if not given or not hmac.compare_digest(given.encode(), settings.secret.encode()):
                return _secured(PlainTextResponse(t("review.forbidden"), status_code=403), nonce)
            if "secret" in request.query_params:  # once in the address, then a cookie
                rest = urlencode([(k, v) for k, v in request.query_params.multi_items()
                                  if k != "secret"])
                response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""),
                                            status_code=303)
                response.set_cookie(COOKIE, settings.secret, httponly=True, samesite="strict")
                return _secured(response, nonce)
        return _secured(await call_next(request), nonce)

    def page(request: Request, name: str, **values: object) -> HTMLResponse:
        html = templates.get_template(name).render(
            language=t.language, nonce=request.state.nonce, csrf=csrf,
            assignment_title=local_text(klass.spec.title, t.language), **values)
        return HTMLResponse(html)

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        states = klass.states()
        items = []
        for item in klass.spec.rubric:
            column = [s.items[_index(klass.spec, item)] for s in states]
            waiting = [s for s, state in zip(states, column, strict=True) if state.needs_review]
            first = (waiting or states)[0].grade.student if states else None
            items.append({"item": item, "title": local_text(item.title, t.language),
                          "question": local_text(item.question, t.language),
                          "graded": sum(state.grade is not None for state in column),
                          "total": len(column), "waiting": len(waiting),
                          "first": _href(item.id, first) if first else None})
        students = [{"label": _label(s), "automatic": _points(t, s.grade.score,
                                                              s.grade.max_score),
                     "total": _points(t, *_total(klass.spec, s)),
                     "cells": [_cell(t, state, s.grade.student) for state in s.items]}
                    for s in states]
        return page(request, "overview.html", items=items, students=students)

    @app.get("/review", response_class=HTMLResponse)
    def review(request: Request, item: str, student: str, saved: str | None = None
               ) -> Response:
        found = _find(klass, item, student)
        if found is None:
            return PlainTextResponse(t("review.unknown"), status_code=404)
        return _review_page(request, found, saved=saved)

    @app.post("/review", response_class=HTMLResponse)
    def save(request: Request, item: str, student: str, csrf_token: str = Form(alias="csrf"),
             revision: int = Form(0), answer_sha256: str = Form(""), level: str = Form(""),
             points: str = Form(""), comment: str = Form(""), reuse: str = Form(""),
             grader: str = Form("")) -> Response:
        found = _find(klass, item, student)
        if found is None:
            return PlainTextResponse(t("review.unknown"), status_code=404)
        if not hmac.compare_digest(csrf_token.encode(), csrf.encode()):
            return PlainTextResponse(t("review.bad_form"), status_code=400)
        rubric_item, states, position = found
        state = states[position].items[_index(klass.spec, rubric_item)]
        comment = comment.strip() or reuse.strip()
        grader = grader.strip()[:200] or settings.grader
        chosen = int(level) if level.isdigit() and int(level) < len(rubric_item.levels) else None
        value = _parse_points(points, chosen, rubric_item)
        form = {"level": chosen, "points": points, "comment": comment, "grader": grader}
        if value is None:
            return _review_page(request, found, form=form, status=422,
                                problem=t("review.bad_points", max=rubric_item.points))
        try:
            klass.book.put_manual(ManualGrade(
                assignment=klass.spec.id, student=student, item=rubric_item.id, points=value,
                grader=grader, answer_sha256=answer_sha256 or (
                    state.answer.sha256 if state.answer else ""),
                level=chosen, comment=comment[:5000]), seen_revision=revision)
        except StaleRevision as stale:
            theirs = stale.current
            problem = t("review.conflict", grader=theirs.grader if theirs else "?",
                        points=theirs.points if theirs else 0.0)
            return _review_page(request, _find(klass, item, student) or found, form=form,
                                problem=problem, status=409)
        klass.rewrite(student)
        after = _find(klass, item, student) or found
        target = _next_to_review(after) or "/"
        note = t("review.saved", student=student, points=value)
        response = RedirectResponse(
            target + ("&" if "?" in target else "?") + urlencode({"saved": note}),
            status_code=303)
        response.set_cookie(GRADER_COOKIE, quote(grader), samesite="strict")
        return response

    def _review_page(request: Request, found: tuple[RubricItem, list[StudentState], int], *,
                     form: dict | None = None, problem: str | None = None,
                     saved: str | None = None, status: int = 200) -> HTMLResponse:
        item, states, position = found
        student = states[position]
        state = student.items[_index(klass.spec, item)]
        grade, answer = state.grade, state.answer
        chosen = form["level"] if form else (grade.level if grade else None)
        column = [s.items[_index(klass.spec, item)] for s in states]
        notebook = read_notebook(klass.out / student.grade.report_dir / "executed.ipynb")
        indices = list(answer.context) if answer else []
        levels = [{"value": _number(level.points),
                   "points_text": _points(t, level.points, item.points),
                   "title": local_text(level.title, t.language), "checked": i == chosen}
                  for i, level in enumerate(item.levels)]
        when = grade.graded_at.replace("T", " ")[:16] if grade else ""
        response = page(
            request, "review.html", item=item, item_title=local_text(item.title, t.language),
            question=local_text(item.question, t.language),
            student_label=_label(student), saved=saved, problem=problem,
            changed=t("review.changed", grader=grade.grader, when=when)
            if state.changed and grade else None,
            graded_by=t("review.graded_by", grader=grade.grader, when=when) if grade else None,
            found_by=t(f"review.found_by.{answer.found_by}") if answer and answer.found_by
            else "", answer_text=answer.text if answer else "",
            answer_place_found=bool(answer and answer.found_by),
            not_found=t("review.not_found", tag=item.answer.tag or item.id, headings=", ".join(
                f"«{h}»" for h in item.answer.headings) or t("review.not_found.no_headings")),
            cells=shown_cells(notebook, indices),
            checks=[{"title": c.title, "points": _points(t, c.points, c.max_points),
                     "message": c.message} for c in (student.report.checks
                                                    if student.report else [])],
            levels=levels, points=form["points"] if form else (
                _number(grade.points) if grade else ""),
            comment=form["comment"] if form else (grade.comment if grade else ""),
            comments=klass.book.comments(klass.spec.id, item.id)[:30],
            grader=(form or {}).get("grader") or unquote(request.cookies.get(GRADER_COOKIE, ""))
            or settings.grader,
            revision=grade.revision if grade else 0,
            answer_sha256=answer.sha256 if answer else "",
            action=_href(item.id, student.grade.student),
            progress={"graded": sum(s.grade is not None for s in column), "total": len(column),
                      "waiting": sum(s.needs_review for s in column)},
            previous=_href(item.id, states[position - 1].grade.student) if position else None,
            next=_href(item.id, states[position + 1].grade.student)
            if position + 1 < len(states) else None,
            report=f"/report?{urlencode({'student': student.grade.student})}")
        response.status_code = status
        return response

    @app.get("/report", response_class=HTMLResponse)
    def report(request: Request, student: str) -> Response:
        state = next((s for s in klass.states() if s.grade.student == student), None)
        if state is None:
            return PlainTextResponse(t("review.unknown"), status_code=404)
        path = klass.out / state.grade.report_dir / "report.html"
        response = HTMLResponse(path.read_text(encoding="utf-8") if path.is_file() else "")
        # nngrade's own report: inline CSS and data: images, never a script.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'")
        return response

    return app


def _secured(response: Response, nonce: str) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _index(spec: AssignmentSpec, item: RubricItem) -> int:
    return spec.rubric.index(item)


def _find(klass: _Class, item_id: str, student: str
          ) -> tuple[RubricItem, list[StudentState], int] | None:
    item = klass.item(item_id)
    states = klass.states()
    position = next((i for i, s in enumerate(states) if s.grade.student == student), None)
    return None if item is None or position is None else (item, states, position)


def _next_to_review(found: tuple[RubricItem, list[StudentState], int]) -> str | None:
    """The next student after this one whose answer waits for review, else the next one."""
    item, states, position = found
    index = next(i for i, s in enumerate(states[0].items) if s.item.id == item.id)
    later = states[position + 1:] + states[:position]
    waiting = next((s for s in later if s.items[index].needs_review), None)
    if waiting is not None:
        return _href(item.id, waiting.grade.student)
    if position + 1 < len(states):
        return _href(item.id, states[position + 1].grade.student)
    return None


def _href(item: str, student: str) -> str:
    return "/review?" + urlencode({"item": item, "student": student})


def _label(state: StudentState) -> str:
    grade = state.grade
    return f"{grade.student} — {grade.full_name}" if grade.full_name else grade.student


def _parse_points(text: str, level: int | None, item: RubricItem) -> float | None:
    """The points to save: as typed, else the chosen level's; None when neither is valid."""
    text = text.strip().replace(",", ".")
    if not text:
        return item.levels[level].points if level is not None else None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 <= value <= item.points else None


def _number(value: float) -> str:
    return f"{value:g}"


def _points(t: Translator, points: float, top: float) -> str:
    return f"{t.number(points, 'g')}/{t.number(top, 'g')}"


def _total(spec: AssignmentSpec, state: StudentState) -> tuple[float, float]:
    combined = state.combined(spec)
    return combined.score, combined.max_score


def _cell(t: Translator, state: ItemState, student: str) -> dict:
    if state.answer is not None and not state.answer.text and state.grade is None:
        kind, text = "missing", t("review.state.missing")
    elif state.changed:
        kind, text = "changed", t("review.state.changed")
    elif state.grade is None:
        kind, text = "ungraded", t("review.state.ungraded")
    else:
        kind, text = "graded", _points(t, state.grade.points, state.item.points)
    return {"state": kind, "text": text, "href": _href(state.item.id, student)}
