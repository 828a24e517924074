"""Checks on named notebook functions evaluated at the grader's arguments."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from graders.context import FunctionResult, GradingContext
from graders.registry import Verdict, check_kind
from runner.i18n.message import Message, msg


class FunctionValuesParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    function: str = Field(description="Name of the notebook function.")
    expected: str = Field(description="'graders.module:callable' computing the true values.")
    rtol: float = Field(1e-6, ge=0)
    atol: float = Field(1e-8, ge=0)

    @field_validator("expected")
    def _resolvable(cls, value: str) -> str:
        resolve(value)
        return value


class FunctionParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    function: str


def resolve(reference: str) -> Callable[[np.ndarray], np.ndarray]:
    """Import ``graders.module:callable``; only grader code may compute expected values."""
    module_name, _, attribute = reference.partition(":")
    if not module_name.startswith("graders.") or not attribute:
        raise ValueError(f"{reference!r} must look like 'graders.module:function'")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load {reference!r}: {error}") from error
    if not callable(target):
        raise ValueError(f"{reference!r} is not callable")
    return target


def _result(ctx: GradingContext, name: str) -> FunctionResult | Message:
    result = ctx.functions.get(name)
    if result is None:
        return msg("check.function.not_evaluated", function=name)
    if result.error:
        return msg("check.function.error", function=name, error=result.error)
    if result.values is None:
        return msg("check.function.returned_nothing", function=name)
    return result


@check_kind("function_values", FunctionValuesParams)
def function_values(params: FunctionValuesParams, ctx: GradingContext) -> Verdict:
    """The function's values match the expected ones within a tolerance."""
    result = _result(ctx, params.function)
    if isinstance(result, Message):
        return Verdict.failed(result)
    expected = resolve(params.expected)(result.arguments)
    values = np.asarray(result.values, dtype=np.float64)
    if values.shape != expected.shape:
        return Verdict.failed(msg(
            "check.function_values.shape", function=params.function,
            shape=str(list(values.shape)), input_shape=str(list(result.arguments.shape)),
            expected=str(list(expected.shape))))
    close = np.isclose(values, expected, rtol=params.rtol, atol=params.atol)
    if close.all():
        return Verdict.passed(msg("check.function_values.passed", function=params.function,
                                  n=int(close.size)))
    worst = int(np.argmax(np.abs(np.nan_to_num(values - expected, nan=np.inf))))
    return Verdict.failed(msg(
        "check.function_values.failed", function=params.function, wrong=int((~close).sum()),
        n=int(close.size), x=float(result.arguments.flat[worst]), got=float(values.flat[worst]),
        expected=float(expected.flat[worst])))


@check_kind("uses_autograd", FunctionParams)
def uses_autograd(params: FunctionParams, ctx: GradingContext) -> Verdict:
    """The function computes its result with autograd (a backward pass ran inside it)."""
    result = _result(ctx, params.function)
    if isinstance(result, Message):
        return Verdict.failed(result)
    if result.autograd_calls > 0:
        return Verdict.passed(msg("check.uses_autograd.passed", function=params.function,
                                  n=result.autograd_calls))
    return Verdict.failed(msg("check.uses_autograd.failed", function=params.function))
