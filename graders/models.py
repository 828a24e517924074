"""Checks on CNNs a notebook trained: AlexNet-style architecture, width, depth, MLP baseline."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from graders.context import GradingContext, ScoredModel
from graders.registry import Verdict, check_kind
from graders.selection import (
    AlexNetRule,
    alexnet_problem,
    no_models_message,
)
from runner.i18n.message import Message, msg


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ComparisonParams(_Params):
    min_models: int = Field(2, ge=2, description="Models the comparison needs at least.")


class BaselineParams(_Params):
    min_accuracy: float = Field(0.0, ge=0, le=1, description="The MLP must reach at least this.")


def _verified(ctx: GradingContext) -> list[ScoredModel]:
    """Models whose architecture may be believed: all, unless the clean room is on and
    could not vouch for one (these kinds judge architectures and accept no self-report)."""
    return [model for model in ctx.models if model.verified]


def _measured(ctx: GradingContext) -> list[ScoredModel]:
    return [model for model in _verified(ctx) if model.accuracy is not None]


@check_kind("alexnet_architecture", AlexNetRule)
def alexnet_architecture(params: AlexNetRule, ctx: GradingContext) -> Verdict:
    """A CNN of conv-pool blocks whose kernel sizes fall with depth."""
    cnns = [m for m in _verified(ctx) if m.architecture.kind == "cnn"]
    for model in cnns:
        if alexnet_problem(model, params) is None:
            return Verdict.passed(msg("check.model.described", model=model.label,
                                      description=model.architecture.describe()))
    if not cnns:
        return Verdict.failed(msg("check.alexnet.no_cnn") if ctx.models
                              else no_models_message(ctx))
    return Verdict.failed(msg("check.alexnet.failed", problems=[
        alexnet_problem(m, params) for m in cnns[:3]]))


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
            return Verdict.passed(msg(
                "check.width.passed", n=len(shown),
                layers=msg("check.width.conv_layers", n=depth), models=_widths(shown)))
    if not cnns:
        return Verdict.failed(msg("check.width.no_cnn"))
    return Verdict.failed(msg("check.width.failed", n=params.min_models, models=_widths(cnns)))


def _widths(models: list[ScoredModel]) -> list[Message]:
    return [msg("check.width.model", model=m.label,
                channels=[str(c) for c in m.architecture.conv_channels], accuracy=m.accuracy)
            for m in models]


@check_kind("depth_comparison", ComparisonParams)
def depth_comparison(params: ComparisonParams, ctx: GradingContext) -> Verdict:
    """CNNs with different numbers of conv-pool blocks were trained and measured."""
    cnns = [m for m in _measured(ctx) if m.architecture.kind == "cnn"]
    by_blocks: dict[int, ScoredModel] = {}
    for model in cnns:
        by_blocks.setdefault(model.architecture.blocks, model)
    if len(by_blocks) >= params.min_models:
        shown = [by_blocks[k] for k in sorted(by_blocks)]
        return Verdict.passed(msg("check.depth.passed", n=len(shown), models=[
            msg("check.depth.model", model=m.label, n=m.architecture.blocks,
                accuracy=m.accuracy) for m in shown]))
    if not cnns:
        return Verdict.failed(msg("check.depth.no_cnn"))
    return Verdict.failed(msg("check.depth.failed", depths=[str(k) for k in sorted(by_blocks)]))


@check_kind("mlp_baseline", BaselineParams)
def mlp_baseline(params: BaselineParams, ctx: GradingContext) -> Verdict:
    """A fully connected network was trained and measured to compare the CNNs with."""
    mlps = [m for m in _measured(ctx) if m.architecture.kind == "mlp"]
    if not mlps:
        return Verdict.failed(msg("check.mlp.none"))
    best = max(mlps, key=lambda m: m.accuracy or 0.0)
    if (best.accuracy or 0.0) < params.min_accuracy:
        return Verdict.failed(msg("check.mlp.weak", model=best.label, accuracy=best.accuracy,
                                  min_accuracy=params.min_accuracy))
    cnns = [m for m in _measured(ctx) if m.architecture.kind == "cnn"]
    if cnns:
        top = max(cnns, key=lambda m: m.accuracy or 0.0)
        gap = (top.accuracy or 0.0) - (best.accuracy or 0.0)
        return Verdict.passed(msg("check.mlp.passed.cnn", mlp=best.label,
                                  mlp_accuracy=best.accuracy, cnn=top.label,
                                  cnn_accuracy=top.accuracy, gap=gap))
    return Verdict.passed(msg("check.mlp.passed", mlp=best.label, accuracy=best.accuracy))
