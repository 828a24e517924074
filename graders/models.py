"""Checks on the models a notebook trained: architecture, accuracy, comparisons."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graders.architecture import kernel_order_problem
from graders.context import GradingContext, ScoredModel
from graders.registry import Verdict, check_kind

KernelOrder = Literal["falling", "non_increasing", "any"]
ModelFilter = Literal["alexnet", "cnn", "mlp", "any"]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlexNetRule(_Params):
    min_blocks: int = Field(2, ge=1, description="Conv-pool blocks the CNN needs at least.")
    kernel_order: KernelOrder = Field(
        "falling", description="falling: non-increasing with at least one decrease.")


class AccuracyParams(_Params):
    models: ModelFilter = Field("alexnet", description="Which models may earn the points.")
    floor: float = Field(ge=0, le=1, description="No points at or below this accuracy.")
    target: float = Field(ge=0, le=1, description="Full points from this accuracy on.")
    rule: AlexNetRule = AlexNetRule()

    @model_validator(mode="after")
    def _floor_below_target(self) -> AccuracyParams:
        if self.floor >= self.target:
            raise ValueError(f"floor ({self.floor}) must be below target ({self.target})")
        return self


class ComparisonParams(_Params):
    min_models: int = Field(2, ge=2, description="Models the comparison needs at least.")


class BaselineParams(_Params):
    min_accuracy: float = Field(0.0, ge=0, le=1, description="The MLP must reach at least this.")


def _problem(model: ScoredModel, rule: AlexNetRule) -> str | None:
    """Why ``model`` is not an AlexNet-style CNN under ``rule``, or None if it is."""
    arch = model.architecture
    if arch.kind != "cnn":
        return f"{model.label} has no convolutional layers"
    if arch.blocks < rule.min_blocks:
        return (f"{model.label} has {arch.blocks} conv-pool block(s); "
                f"the task asks for at least {rule.min_blocks}")
    problem = kernel_order_problem(arch.conv_kernels, rule.kernel_order)
    return f"{model.label}: {problem}" if problem else None


def _measured(ctx: GradingContext) -> list[ScoredModel]:
    return [model for model in ctx.models if model.accuracy is not None]


def _select(ctx: GradingContext, which: ModelFilter, rule: AlexNetRule) -> list[ScoredModel]:
    models = _measured(ctx)
    if which == "alexnet":
        return [m for m in models if _problem(m, rule) is None]
    if which in ("cnn", "mlp"):
        return [m for m in models if m.architecture.kind == which]
    return models


def _no_models_message(ctx: GradingContext) -> str:
    if not ctx.models:
        return "no trained model was found: train it in the notebook (fit() / optimizer.step())"
    return "no model could be measured" + _measurement_errors(ctx)


def _measurement_errors(ctx: GradingContext) -> str:
    errors = [f"{m.label}: {m.measured.error}" for m in ctx.models
              if m.accuracy is None and m.measured.error]
    return f" ({'; '.join(errors[:3])})" if errors else ""


@check_kind("alexnet_architecture", AlexNetRule)
def alexnet_architecture(params: AlexNetRule, ctx: GradingContext) -> Verdict:
    """A CNN of conv-pool blocks whose kernel sizes fall with depth."""
    cnns = [m for m in ctx.models if m.architecture.kind == "cnn"]
    for model in cnns:
        if _problem(model, params) is None:
            return Verdict.passed(f"{model.label}: {model.architecture.describe()}")
    if not cnns:
        return Verdict.failed("no convolutional network was trained" if ctx.models
                              else _no_models_message(ctx))
    return Verdict.failed("; ".join(str(_problem(m, params)) for m in cnns[:3]))


@check_kind("accuracy", AccuracyParams)
def accuracy(params: AccuracyParams, ctx: GradingContext) -> Verdict:
    """Accuracy of the best qualifying model, with linear credit from floor to target."""
    candidates = _select(ctx, params.models, params.rule)
    if not candidates:
        wanted = {"alexnet": "AlexNet-style CNN", "cnn": "CNN", "mlp": "MLP"}.get(
            params.models, "model")
        if not ctx.models:
            return Verdict.failed(_no_models_message(ctx))
        return Verdict.failed(f"no {wanted} was measured, so its accuracy cannot be scored"
                              + _measurement_errors(ctx))
    best = max(candidates, key=lambda m: m.accuracy or 0.0)
    value = best.accuracy or 0.0
    fraction = min(1.0, max(0.0, (value - params.floor) / (params.target - params.floor)))
    verdict = f"{best.label} reaches {value:.4f} accuracy"
    if fraction >= 1.0:
        return Verdict(1.0, f"{verdict} (target {params.target:.2f})")
    if fraction <= 0.0:
        return Verdict(0.0, f"{verdict}, at or below the floor {params.floor:.2f}: "
                            f"train longer or improve the network (target {params.target:.2f})")
    return Verdict(fraction, f"{verdict}: partial credit between {params.floor:.2f} and "
                             f"the target {params.target:.2f}")


@check_kind("width_comparison", ComparisonParams)
def width_comparison(params: ComparisonParams, ctx: GradingContext) -> Verdict:
    """CNNs of equal depth and different channel counts were trained and measured."""
    cnns = [m for m in _measured(ctx) if m.architecture.kind == "cnn"]
    by_depth: dict[int, dict[tuple[int, ...], ScoredModel]] = {}
    for model in cnns:
        by_depth.setdefault(model.architecture.conv_layers, {}).setdefault(
            model.architecture.conv_channels, model)
    for depth, variants in sorted(by_depth.items()):
        if len(variants) >= params.min_models:
            shown = sorted(variants.values(), key=lambda m: sum(m.architecture.conv_channels))
            return Verdict.passed(f"{len(shown)} CNNs with {depth} conv layers and different "
                                  f"widths: {_describe_widths(shown)}")
    if not cnns:
        return Verdict.failed("no CNN was measured, so width cannot be compared")
    return Verdict.failed(
        f"the task asks for at least {params.min_models} CNNs with the same number of conv "
        f"layers and different numbers of kernels; found: {_describe_widths(cnns)}")


def _describe_widths(models: list[ScoredModel]) -> str:
    return ", ".join(
        f"{m.label} ({'/'.join(map(str, m.architecture.conv_channels))}: {m.accuracy:.4f})"
        for m in models)


@check_kind("depth_comparison", ComparisonParams)
def depth_comparison(params: ComparisonParams, ctx: GradingContext) -> Verdict:
    """CNNs with different numbers of conv-pool blocks were trained and measured."""
    cnns = [m for m in _measured(ctx) if m.architecture.kind == "cnn"]
    by_blocks: dict[int, ScoredModel] = {}
    for model in cnns:
        by_blocks.setdefault(model.architecture.blocks, model)
    if len(by_blocks) >= params.min_models:
        shown = [by_blocks[k] for k in sorted(by_blocks)]
        listed = ", ".join(f"{m.label} ({m.architecture.blocks} blocks: {m.accuracy:.4f})"
                           for m in shown)
        return Verdict.passed(f"CNNs of {len(shown)} depths: {listed}")
    if not cnns:
        return Verdict.failed("no CNN was measured, so depth cannot be compared")
    depths = ", ".join(str(k) for k in sorted(by_blocks))
    return Verdict.failed(f"every measured CNN has {depths} conv-pool block(s): the task asks "
                          "to compare networks of different depth")


@check_kind("mlp_baseline", BaselineParams)
def mlp_baseline(params: BaselineParams, ctx: GradingContext) -> Verdict:
    """A fully connected network was trained and measured to compare the CNNs with."""
    mlps = [m for m in _measured(ctx) if m.architecture.kind == "mlp"]
    if not mlps:
        return Verdict.failed("no fully connected network (MLP) was measured: the task asks "
                              "to compare the CNN with one")
    best = max(mlps, key=lambda m: m.accuracy or 0.0)
    if (best.accuracy or 0.0) < params.min_accuracy:
        return Verdict.failed(f"{best.label} reaches only {best.accuracy:.4f}; a working MLP "
                              f"gets at least {params.min_accuracy:.2f}")
    cnns = [m for m in _measured(ctx) if m.architecture.kind == "cnn"]
    if cnns:
        top = max(cnns, key=lambda m: m.accuracy or 0.0)
        gap = (top.accuracy or 0.0) - (best.accuracy or 0.0)
        return Verdict.passed(f"MLP {best.label}: {best.accuracy:.4f}; best CNN {top.label}: "
                              f"{top.accuracy:.4f} ({gap:+.4f} for the CNN)")
    return Verdict.passed(f"MLP {best.label}: {best.accuracy:.4f}")


