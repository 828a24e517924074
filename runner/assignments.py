"""Find and load assignments, turning every spec problem into a SpecError."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from graders.registry import kinds
from runner._yaml_lines import line_of
from runner.errors import SpecError, UnknownAssignment
from runner.i18n.message import msg
from runner.paths import ProjectPaths
from runner.spec import AssignmentSpec

SPEC_FILE = "assignment.yaml"


@dataclass(frozen=True)
class Assignment:
    spec: AssignmentSpec
    folder: Path
    check_params: dict[str, BaseModel]

    @property
    def task_text(self) -> str:
        return (self.folder / self.spec.task).read_text(encoding="utf-8")


def available(paths: ProjectPaths | None = None) -> list[str]:
    root = (paths or ProjectPaths.default()).assignments
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / SPEC_FILE).is_file())


def load(assignment_id: str, paths: ProjectPaths | None = None) -> Assignment:
    paths = paths or ProjectPaths.default()
    folder = paths.assignments / assignment_id
    if not (folder / SPEC_FILE).is_file():
        raise UnknownAssignment.for_id(assignment_id, available(paths))
    return load_spec(folder / SPEC_FILE)


def load_spec(path: Path) -> Assignment:
    """Parse and validate one spec file, including each check's own parameters."""
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = msg("error.spec.line", line=mark.line + 1) if mark else ""
        problem = getattr(error, "problem", None) or error
        raise SpecError.at(path, where, msg("error.spec.yaml", error=str(problem))) from None
    if not isinstance(raw, dict):
        raise SpecError.at(path, "", msg("error.spec.not_mapping"))
    try:
        spec = AssignmentSpec.model_validate(raw)
    except ValidationError as error:
        raise _spec_error(path, text, error, prefix=()) from None
    if spec.id != path.parent.name:
        raise SpecError.at(path, "id", msg("error.spec.id_folder", id=spec.id,
                                           folder=path.parent.name))
    if not (path.parent / spec.task).is_file():
        raise SpecError.at(path, "task", msg("error.spec.task_missing", file=spec.task))
    return Assignment(spec, path.parent, _check_params(path, text, spec))


def _check_params(path: Path, text: str, spec: AssignmentSpec) -> dict[str, BaseModel]:
    known = kinds()
    params: dict[str, BaseModel] = {}
    for number, check in enumerate(spec.checks):
        kind = known.get(check.kind)
        if kind is None:
            line = line_of(text, ("checks", number, "kind"))
            raise SpecError.at(path, msg("error.spec.field_line", field=f"checks[{number}].kind",
                                         line=line),
                               msg("error.spec.unknown_kind", kind=check.kind,
                                   known=sorted(known)))
        try:
            params[check.id] = kind.params.model_validate(check.params)
        except ValidationError as error:
            raise _spec_error(path, text, error, prefix=("checks", number, "params")) from None
    return params


def _spec_error(path: Path, text: str, error: ValidationError, prefix: tuple) -> SpecError:
    problems = []
    for item in error.errors():
        loc = prefix + tuple(item["loc"])
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        line = line_of(text, loc)
        problems.append(msg("error.spec.problem", field=field or msg("error.spec.top_level"),
                            line=line, problem=item["msg"]))
    return SpecError.at(path, "", msg("error.spec.problems", problems=problems))
