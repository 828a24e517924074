"""How the probe fed a model, in words: the layout, the scaling and how outputs were read.

The probe records an :class:`~runner.measurements.InputFormat` in the student's kernel;
this turns it into a message, so the report says it in the reader's language, from the
record's numbers (``window``, ``threshold``); a decision the record gives only in words
is shown as it is.
"""

from __future__ import annotations

from runner.i18n.message import Message, msg
from runner.measurements import InputFormat

_SOURCES = {"training-data": "input.source.training_data", "calibrated": "input.source.calibrated"}


def describe_input(fmt: InputFormat) -> Message:
    """One line: layout, scaling per channel, where the scaling came from, the decision."""
    layout = "x".join(map(str, fmt.shape))
    formula = f"x*{_numbers(fmt.scale)}{_numbers(fmt.shift, '+')}"
    parts: list[Message | str] = [
        msg("input.axes", layout=layout, axes=", ".join(map(str, fmt.transpose)))
        if fmt.transpose else layout,
        msg("input.scaling", formula=formula, source=_source(fmt.source))]
    if fmt.window is not None:
        parts.append(msg("input.decision.window", length=fmt.window))
    elif fmt.threshold is not None:
        parts.append(msg("input.decision.threshold", value=fmt.threshold))
    elif fmt.decision != "argmax":
        parts.append(fmt.decision)
    if fmt.lag:
        parts.append(msg("input.lag", n=fmt.lag))
    return msg("input.format", parts=parts)


def _numbers(value: float | list[float], sign: str = "") -> str:
    if isinstance(value, float):
        return f"{value:{sign}.4g}"
    shown = ", ".join(f"{v:.4g}" for v in value[:4])
    return f"{sign and '+'}[{shown}{', …' if len(value) > 4 else ''}]"


def _source(source: str) -> Message | str:
    if source in _SOURCES:
        return msg(_SOURCES[source])
    if source.startswith("scaler "):
        return msg("input.source.scaler", name=source.removeprefix("scaler "))
    return source
