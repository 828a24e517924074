"""Generic checks on trained models: a metric between floor and target, a model of a
kind was trained, one kind of model beats another.

They know no assignment: which models, which metric and which thresholds come
from the spec's ``params``, so an assignment of a new kind needs no new code.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graders.context import GradingContext, ScoredModel
from graders.registry import Verdict, check_kind
from graders.selection import Selection, measurement_errors, no_models_message, select
from runner.baselines import BASELINES, short_name
from runner.i18n.message import Message, msg
from runner.metrics import METRICS, Metric


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_metric(name: str) -> str:
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")
    return name


class MetricParams(_Params):
    metric: str = Field(description="A metric of runner.metrics, e.g. accuracy or rmse.")
    select: Selection = Field(default_factory=Selection, description="Which models may "
                              "earn the points; the best of them counts.")
    floor: float = Field(description="No points at or beyond this value.")
    target: float = Field(description="Full points from this value on.")
    max_gap: float | None = Field(
        0.05, ge=0, description="A model whose metric on the evaluation inputs beats the "
        "same inputs with the dataset's small noise by more than this earns nothing here: "
        "one that learned the task scores about the same on both. None: no comparison.")

    @model_validator(mode="after")
    def _direction(self) -> MetricParams:
        metric = METRICS[_known_metric(self.metric)]
        if metric.higher_is_better and not self.floor < self.target:
            raise ValueError(f"{self.metric} is better when higher: floor ({self.floor}) must "
                             f"be below target ({self.target})")
        if not metric.higher_is_better and not self.floor > self.target:
            raise ValueError(f"{self.metric} is better when lower: floor ({self.floor}) must "
                             f"be above target ({self.target})")
        return self


class TrainedParams(_Params):
    select: Selection = Field(default_factory=Selection)


class ComparisonParams(_Params):
    metric: str
    baseline: Selection = Field(description="The models expected to do worse.")
    better: Selection = Field(description="The models expected to do better.")
    min_gap: float = Field(0.0, ge=0, description="How much better, in the metric's units.")

    @model_validator(mode="after")
    def _metric(self) -> ComparisonParams:
        _known_metric(self.metric)
        return self


class BaselineParams(_Params):
    metric: str
    baseline: str = Field(description="A forecast of runner.baselines, e.g. seasonal_naive.")
    select: Selection = Field(default_factory=Selection)
    target_ratio: float = Field(1.0, gt=0, description="Full points when the model's value "
                                "is this multiple of the baseline's, or better.")
    floor_ratio: float | None = Field(None, gt=0, description="No points from this multiple "
                                      "on; linear credit in between. None: all or nothing.")

    @model_validator(mode="after")
    def _known(self) -> BaselineParams:
        metric = METRICS[_known_metric(self.metric)]
        if self.baseline not in BASELINES:
            raise ValueError(f"unknown baseline {self.baseline!r}; known: "
                             f"{', '.join(sorted(BASELINES))}")
        worse = self.floor_ratio is None or (
            self.floor_ratio < self.target_ratio if metric.higher_is_better
            else self.floor_ratio > self.target_ratio)
        if not worse:
            raise ValueError(f"floor_ratio ({self.floor_ratio}) must be on the worse side of "
                             f"target_ratio ({self.target_ratio}) for {self.metric}")
        return self


def best(models: list[ScoredModel], metric: Metric) -> ScoredModel:
    """The model with the best value of ``metric`` (all must have it)."""
    def value(model: ScoredModel) -> float:
        measured = model.metric(metric.name)
        assert measured is not None
        return measured if metric.higher_is_better else -measured

    return max(models, key=value)


def credit(value: float, floor: float, target: float) -> float:
    """Linear credit from floor (0) to target (1), in either direction, clipped."""
    return min(1.0, max(0.0, (value - floor) / (target - floor)))


@check_kind("metric", MetricParams)
def metric_check(params: MetricParams, ctx: GradingContext) -> Verdict:
    """A metric of the best qualifying model on the evaluation set, floor to target."""
    metric = METRICS[params.metric]
    candidates = select(ctx, params.select, metric=metric.name)
    if not candidates:
        if not ctx.models:
            return Verdict.failed(no_models_message(ctx))
        return Verdict.failed(msg("check.metric.none", models=params.select.describe(),
                                  metric=metric.title,
                                  errors=measurement_errors(ctx, metric.name)))
    doubtful = {m.measured.index: noisy for m in candidates
                if (noisy := _drop_under_noise(m, metric, params.max_gap)) is not None}
    trusted = [m for m in candidates if m.measured.index not in doubtful]
    if not trusted:
        return Verdict.failed(_withheld(best(candidates, metric), metric, doubtful, ctx))
    top = best(trusted, metric)
    value = top.metric(metric.name)
    assert value is not None
    share = credit(value, params.floor, params.target)
    said = {"model": top.label, "metric": metric.title, "value": metric.show(value),
            "evaluation_set": ctx.evaluation_set}
    if doubtful:
        result = msg("check.metric.result.doubtful", **said, left_out=[
            m.label for m in candidates if m.measured.index in doubtful])
    else:
        result = msg("check.metric.result", **said)
    target = metric.show(params.target)
    if share >= 1.0:
        return Verdict(1.0, msg("check.metric.passed", result=result, target=target))
    if share <= 0.0:
        return Verdict(0.0, msg("check.metric.failed", result=result,
                                floor=metric.show(params.floor), target=target))
    return Verdict(share, msg("check.metric.partial", result=result,
                              floor=metric.show(params.floor), target=target))


def _drop_under_noise(model: ScoredModel, metric: Metric, max_gap: float | None
                      ) -> float | None:
    """The metric on the perturbed copy when it is worse than the clean one by more than
    ``max_gap``; else None."""
    clean, noisy = model.metric(metric.name), model.perturbed.get(metric.name)
    if max_gap is None or clean is None or noisy is None:
        return None
    gap = clean - noisy if metric.higher_is_better else noisy - clean
    return noisy if gap > max_gap else None


def _withheld(model: ScoredModel, metric: Metric, doubtful: dict[int, float],
              ctx: GradingContext) -> Message:
    value = model.metric(metric.name)
    assert value is not None
    return msg("check.metric.withheld", model=model.label, metric=metric.title,
               value=metric.show(value), evaluation_set=ctx.evaluation_set,
               noisy=metric.show(doubtful[model.measured.index]),
               perturbation=ctx.perturbation or msg("check.metric.noise"))


@check_kind("trained_model", TrainedParams)
def trained_model(params: TrainedParams, ctx: GradingContext) -> Verdict:
    """A model of the kind the task asks for was trained."""
    found = select(ctx, params.select)
    if found:
        model = found[0]
        return Verdict.passed(msg("check.model.described", model=model.label,
                                  description=model.architecture.describe()))
    if not ctx.models:
        return Verdict.failed(no_models_message(ctx))
    seen = [msg("check.trained.seen", model=m.label, framework=m.measured.framework,
                description=m.architecture.describe()) for m in ctx.models[:3]]
    return Verdict.failed(msg("check.trained.failed", models=params.select.describe(),
                              seen=seen))


@check_kind("model_comparison", ComparisonParams)
def model_comparison(params: ComparisonParams, ctx: GradingContext) -> Verdict:
    """The better kind of model beats the baseline kind by at least ``min_gap``."""
    metric = METRICS[params.metric]
    baselines = select(ctx, params.baseline, metric=metric.name)
    betters = select(ctx, params.better, metric=metric.name)
    missing = [sel.describe() for sel, found in ((params.baseline, baselines),
                                                 (params.better, betters)) if not found]
    if missing:
        return Verdict.failed(msg(
            "check.comparison.missing", baseline=params.baseline.describe(),
            better=params.better.describe(), missing=missing, errors=measurement_errors(ctx)))
    base, top = best(baselines, metric), best(betters, metric)
    base_value, top_value = base.metric(metric.name), top.metric(metric.name)
    assert base_value is not None and top_value is not None
    gap = top_value - base_value if metric.higher_is_better else base_value - top_value
    said = msg("check.comparison.result", baseline=params.baseline.describe(),
               baseline_model=base.label, metric=metric.title,
               baseline_value=metric.show(base_value), better=params.better.describe(),
               better_model=top.label, better_value=metric.show(top_value))
    if gap >= params.min_gap and top is not base:
        return Verdict.passed(said)
    return Verdict.failed(msg("check.comparison.failed", result=said,
                              min_gap=metric.show(params.min_gap)))


@check_kind("beats_baseline", BaselineParams)
def beats_baseline(params: BaselineParams, ctx: GradingContext) -> Verdict:
    """The best qualifying model does better than a forecast made without a model."""
    metric = METRICS[params.metric]
    words = BASELINES[params.baseline][0]
    reference = ctx.baselines.get(params.baseline, {}).get(metric.name)
    if reference is None:
        return Verdict.failed(msg("check.baseline.not_computed", baseline=words))
    candidates = select(ctx, params.select, metric=metric.name)
    if not candidates:
        if not ctx.models:
            return Verdict.failed(no_models_message(ctx))
        return Verdict.failed(msg(
            "check.baseline.none", models=params.select.describe(), baseline=words,
            metric=metric.title, reference=metric.show(reference),
            errors=measurement_errors(ctx)))
    top = best(candidates, metric)
    value = top.metric(metric.name)
    assert value is not None
    said = msg("check.baseline.result", model=top.label, metric=metric.title,
               value=metric.show(value), baseline=words, reference=metric.show(reference))
    ratio = value / reference if reference else float("inf")
    share = _ratio_credit(ratio, params, metric)
    if share >= 1.0:
        return Verdict.passed(said)
    if share <= 0.0:
        return Verdict.failed(msg("check.baseline.failed", result=said))
    return Verdict(share, msg("check.baseline.partial", result=said, ratio=ratio,
                              baseline=short_name(params.baseline), metric=metric.title))


def _ratio_credit(ratio: float, params: BaselineParams, metric: Metric) -> float:
    better = ratio >= params.target_ratio if metric.higher_is_better else (
        ratio <= params.target_ratio)
    if better:
        return 1.0
    if params.floor_ratio is None:
        return 0.0
    return credit(ratio, params.floor_ratio, params.target_ratio)
