"""Which trained models a check is about: by architecture, framework and layer types.

A spec names the models a check looks at in words an instructor uses ("a CNN",
"an AlexNet-style CNN", "a network with a hidden non-linearity", "a linear
model", "a model with an LSTM layer, trained with PyTorch"); this module turns
those words into a filter over the measured models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from graders.architecture import kernel_order_problem
from graders.context import GradingContext, ScoredModel
from runner.i18n.message import Message, msg

KernelOrder = Literal["falling", "non_increasing", "any"]
ModelFilter = Literal["alexnet", "cnn", "mlp", "rnn", "encoder_decoder", "unet", "nonlinear",
                      "linear", "any"]

_FRAMEWORKS = {"pytorch": "PyTorch", "keras": "Keras"}


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlexNetRule(_Params):
    min_blocks: int = Field(2, ge=1, description="Conv-pool blocks the CNN needs at least.")
    kernel_order: KernelOrder = Field(
        "falling", description="falling: non-increasing with at least one decrease.")


class Selection(_Params):
    """Which models qualify: all given conditions must hold."""

    models: ModelFilter = Field("any", description="Architecture the model must have.")
    framework: Literal["pytorch", "keras"] | None = Field(
        None, description="Only models of this framework.")
    layer_types: list[str] = Field(
        default_factory=list, description="The model contains a layer of one of these "
        "classes (case-insensitive, e.g. LSTM).")
    rule: AlexNetRule = AlexNetRule()
    self_reported: bool = Field(
        False, description="With the clean room on: models it could not verify may match "
        "on the architecture the student's kernel reported.")

    def describe(self) -> Message:
        """The selection in words: 'model with a layer of type LSTM (PyTorch)'
        (``selection.<models>``, then ``selection.with_layer``, ``selection.framework``).
        In Russian a feminine noun in the nominative ("свёрточная сеть", "модель"), which
        the templates that use it are written around."""
        words = msg(f"selection.{self.models}")
        if self.layer_types:
            words = msg("selection.with_layer", what=words, types=list(self.layer_types))
        if self.framework:
            words = msg("selection.framework", what=words,
                        framework=_FRAMEWORKS[self.framework])
        return words


def alexnet_problem(model: ScoredModel, rule: AlexNetRule) -> Message | None:
    """Why ``model`` is not an AlexNet-style CNN under ``rule``, or None if it is."""
    arch = model.architecture
    if arch.kind != "cnn":
        return msg("check.alexnet.not_cnn", model=model.label)
    if arch.blocks < rule.min_blocks:
        return msg("check.alexnet.few_blocks", model=model.label, n=arch.blocks,
                   min_blocks=rule.min_blocks)
    problem = kernel_order_problem(arch.conv_kernels, rule.kernel_order)
    return msg("check.alexnet.kernels", model=model.label, problem=problem) if problem else None


def matches(model: ScoredModel, selection: Selection) -> bool:
    """Whether ``model`` is one of the models ``selection`` describes."""
    arch = model.architecture
    if selection.framework and model.measured.framework != selection.framework:
        return False
    if not model.verified and not selection.self_reported and (
            selection.models != "any" or selection.layer_types):
        return False
    if selection.layer_types:
        wanted = {name.lower() for name in selection.layer_types}
        if not any(kind.lower() in wanted for kind in arch.layer_types):
            return False
    which = selection.models
    if which == "alexnet":
        return alexnet_problem(model, selection.rule) is None
    if which in ("cnn", "mlp", "rnn", "encoder_decoder"):
        return arch.kind == which
    if which == "unet":
        return arch.kind == "encoder_decoder" and arch.skip_connections > 0
    if which == "nonlinear":
        return arch.kind in ("cnn", "rnn", "encoder_decoder") or arch.hidden_nonlinearities > 0
    if which == "linear":
        return arch.linear and arch.dense_layers > 0
    return True


def select(ctx: GradingContext, selection: Selection, *, metric: str | None = None
           ) -> list[ScoredModel]:
    """Models matching ``selection``; with ``metric``, only those where it was measured."""
    found = [m for m in ctx.models if matches(m, selection)]
    if metric is not None:
        found = [m for m in found if m.metric(metric) is not None]
    return found


def no_models_message(ctx: GradingContext) -> Message:
    """Why no model can be scored at all."""
    if not ctx.probe_ran:
        return msg("check.models.not_measured")
    if not ctx.models:
        return msg("check.models.none_trained")
    return msg("check.models.none_measured", errors=measurement_errors(ctx))


def measurement_errors(ctx: GradingContext, metric: str | None = None) -> Message | str:
    """The first measurement errors, in parentheses after a space (``check.models.errors``),
    or "": a parameter ``errors`` that a template appends to its sentence. With ``metric``:
    the errors of the models that lack it, though they may have others (a generator whose
    samples are copies has its share of copies, and no Fréchet distance)."""
    lacking = ((lambda m: m.metric(metric) is None) if metric is not None
               else (lambda m: m.accuracy is None and not m.metrics))
    errors = [msg("check.models.labelled_error", model=m.label, error=m.error)
              for m in ctx.models if lacking(m) and m.error]
    return msg("check.models.errors", errors=errors[:3]) if errors else ""
