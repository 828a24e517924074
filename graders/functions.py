"""Checks on named notebook functions evaluated at the grader's arguments."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from graders.context import FunctionResult, GradingContext
from graders.registry import Verdict, check_kind


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


def _result(ctx: GradingContext, name: str) -> FunctionResult | str:
    result = ctx.functions.get(name)
    if result is None:
        return f"`{name}` was not evaluated: the notebook did not get that far"
    if result.error:
        return f"`{name}` could not be evaluated: {result.error}"
    if result.values is None:
        return f"`{name}` returned nothing"
    return result


@check_kind("function_values", FunctionValuesParams)
def function_values(params: FunctionValuesParams, ctx: GradingContext) -> Verdict:
    """The function's values match the expected ones within a tolerance."""
    result = _result(ctx, params.function)
    if isinstance(result, str):
        return Verdict.failed(result)
    expected = resolve(params.expected)(result.arguments)
    values = np.asarray(result.values, dtype=np.float64)
    if values.shape != expected.shape:
        return Verdict.failed(f"`{params.function}` returned shape {list(values.shape)} for "
                              f"an input of shape {list(result.arguments.shape)}; expected "
                              f"{list(expected.shape)}")
    close = np.isclose(values, expected, rtol=params.rtol, atol=params.atol)
    if close.all():
        return Verdict.passed(f"`{params.function}` is right at all {close.size} test points")
    worst = int(np.argmax(np.abs(np.nan_to_num(values - expected, nan=np.inf))))
    return Verdict.failed(
        f"`{params.function}` is wrong at {int((~close).sum())} of {close.size} test points, "
        f"e.g. x = {result.arguments.flat[worst]:.4g}: got {values.flat[worst]:.6g}, "
        f"expected {expected.flat[worst]:.6g}")


@check_kind("uses_autograd", FunctionParams)
def uses_autograd(params: FunctionParams, ctx: GradingContext) -> Verdict:
    """The function computes its result with autograd (a backward pass ran inside it)."""
    result = _result(ctx, params.function)
    if isinstance(result, str):
        return Verdict.failed(result)
    if result.autograd_calls > 0:
        return Verdict.passed(f"`{params.function}` ran {result.autograd_calls} backward pass(es)")
    return Verdict.failed(f"`{params.function}` ran no backward pass: the task asks to compute "
                          "the derivative with autograd (backward() or torch.autograd.grad)")
