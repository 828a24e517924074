"""What scoring saw, kept beside a report, so checks can be applied again without a rerun.

Scoring is a pure function of a :class:`GradingContext` (what was measured, joined with
the hidden truth on the host). Grading saves that context in the student's report
folder (``scoring.pkl``) with a key of what decided the measurements: the spec's
``collect``, ``limits`` and ``compat`` settings and the dataset definitions. ``nngrade
rescore`` applies the current checks, thresholds and points to it, in seconds, and
sends back to a rerun only the students whose key no longer matches.

The file is a pickle written by nngrade on the host, never by student code; it is
read back with an unpickler that builds only nngrade's own data classes, NumPy arrays
and plain values, so a tampered file cannot run code.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import io
import json
import pickle
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from graders.context import GradingContext
from runner.paths import ProjectPaths
from runner.report.write import write_atomic_bytes
from runner.spec import AssignmentSpec

RECORD_FILE = "scoring.pkl"
MAX_RECORD_BYTES = 256 * 1024 * 1024
_PLAIN = {("builtins", name) for name in (
    "set", "frozenset", "tuple", "list", "dict", "complex", "slice", "range", "bytearray",
    "object", "int", "float", "str", "bool")} | {
    ("copyreg", "_reconstructor"), ("collections", "OrderedDict"),
    ("datetime", "datetime"), ("datetime", "timezone"), ("datetime", "timedelta"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "scalar"), ("numpy", "float64"), ("numpy", "float32"),
    ("numpy", "int64"), ("numpy", "int32"), ("numpy", "bool_"), ("numpy", "uint8")}


@dataclass(frozen=True)
class ScoringRecord:
    context: GradingContext
    collected: str  # :func:`collection_key` when it was measured
    measured_by: str  # the grader version that measured it
    mode: str


def collection_key(spec: AssignmentSpec, paths: ProjectPaths | None = None) -> str:
    """A hash of everything that decides what is measured: the assignment's settings, the
    datasets, and the shape of the record itself (a newer nngrade whose context holds
    other fields cannot score an older record)."""
    settings = {"collect": spec.collect.model_dump(mode="json"),
                "limits": spec.limits.model_dump(mode="json"), "compat": spec.compat,
                "frameworks": [str(f) for f in spec.frameworks], "layout": _layout()}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    datasets = (paths or ProjectPaths.default()).datasets
    if datasets.is_dir():
        from runner.grading import tree_digest  # grading imports this module

        digest.update(tree_digest(datasets).encode())
    return digest.hexdigest()[:16]


def _layout() -> list[list[str]]:
    """The fields of every class a record holds."""
    from graders.architecture import Architecture
    from graders.context import CellReport, FunctionResult, ScoredModel
    from graders.roles import Part
    from runner.measurements import MeasuredModel

    kinds = (GradingContext, ScoredModel, FunctionResult, CellReport, Architecture, Part)
    return ([[f.name for f in dataclasses.fields(kind)] for kind in kinds]
            + [sorted(MeasuredModel.model_fields)])


def write_record(folder: Path, record: ScoringRecord) -> Path | None:
    """Save ``record``; None when it cannot be saved, which only rules out a rescore."""
    path = folder / RECORD_FILE
    try:
        write_atomic_bytes(path, pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # whatever it was, a grade must not be lost to it
        path.unlink(missing_ok=True)
        return None
    return path


def read_record(folder: Path) -> ScoringRecord | None:
    """The folder's record, or None when there is none or it cannot be trusted or read."""
    path = folder / RECORD_FILE
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            return None
        record = _Unpickler(io.BytesIO(path.read_bytes())).load()
    except Exception:  # missing, truncated, from an older nngrade, or refused
        return None
    return record if isinstance(record, ScoringRecord) else None


class _Unpickler(pickle.Unpickler):
    """Builds nngrade's data classes (dataclasses, pydantic models, enums), NumPy arrays
    and plain values; any other global (a function to call, a foreign class) is refused."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _PLAIN:
            return super().find_class(module, name)
        if module.split(".")[0] in ("runner", "graders"):
            found = super().find_class(module, name)
            if isinstance(found, type) and (dataclasses.is_dataclass(found)
                                            or issubclass(found, BaseModel | enum.Enum)):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a scoring record")
