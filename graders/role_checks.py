"""The parts a task names were trained: a VAE's encoder and decoder, a GAN's generator and
discriminator, whatever class and attribute names the student chose.

Roles are told on the host from what goes in and out of every trained model and of the
models inside it (``graders/roles.py``), with the size of the task's images; the
shapes are the ones the probe recorded in the student's kernel. What the parts then
*produce* (reconstructions, samples) is scored by other checks, on what their exported
graphs compute, so a record forged to show a VAE earns these points and no others.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from graders.context import GradingContext, ScoredModel
from graders.registry import Verdict, check_kind
from graders.roles import Part, Role, parts_of
from graders.selection import no_models_message
from runner.i18n.message import Message, msg

ENCODERS = ("vae_encoder", "encoder")


class RolesParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: list[Role] = Field(min_length=1, max_length=6, description="Each must be found "
                              "among the trained models and the models inside them, e.g. "
                              "[vae_encoder, decoder] for a VAE, [decoder, discriminator] "
                              "for a GAN.")
    same_latent: bool = Field(False, description="Some encoder's latent size must be some "
                              "decoder's input size: the two halves of one VAE.")
    framework: Literal["pytorch", "keras"] | None = Field(
        None, description="Only models of this framework count.")


def found_parts(ctx: GradingContext, framework: str | None = None
                ) -> list[tuple[ScoredModel, Part]]:
    """Every trained model and every model inside one that has a role, in order."""
    if ctx.image_size is None:
        return []
    return [(model, part) for model in ctx.models
            if framework is None or model.measured.framework == framework
            for part in _with_graph_parts(model, ctx.image_size, ctx.num_classes)
            if part.role is not None]


def _with_graph_parts(model: ScoredModel, image_size: int, num_classes: int | None
                      ) -> list[Part]:
    """The parts the kernel described, then the roles of exported graphs it did not name
    (a PyTorch VAE's ``encode`` and ``decode`` methods are graphs, not child modules)."""
    parts = parts_of(model.measured, image_size, num_classes)
    seen = {(part.name, part.role) for part in parts}
    return parts + [part for part in model.graph_parts if (part.name, part.role) not in seen]


def describe_part(model: ScoredModel, part: Part) -> Message:
    """'#0 vae, its encoder: a VAE encoder (latent 2)'; the part's name only when it is
    one inside the trained model."""
    role = msg(f"role.{part.role}")
    if part.latent is not None:
        role = msg("check.roles.with_latent", role=role, latent=part.latent)
    if part.name:
        return msg("check.roles.inner_part", model=model.label, part=part.name, role=role)
    return msg("check.roles.part", model=model.label, role=role)


@check_kind("roles", RolesParams)
def roles_check(params: RolesParams, ctx: GradingContext) -> Verdict:
    """Every named role is played by some trained model or a model inside one."""
    if not ctx.models:
        return Verdict.failed(no_models_message(ctx))
    found = found_parts(ctx, params.framework)
    roles = {part.role for _, part in found}
    missing = [msg(f"role.{role}") for role in params.roles if role not in roles]
    seen = [describe_part(model, part) for model, part in found[:6]]
    if missing:
        return Verdict.failed(msg("check.roles.missing", missing=missing,
                                  seen=seen or [msg("check.roles.none")]))
    chosen = [(model, part) for model, part in found if part.role in params.roles]
    if params.same_latent:
        encoders = {p.latent for _, p in chosen if p.role in ENCODERS and p.latent}
        decoders = {p.latent for _, p in chosen if p.role == "decoder" and p.latent}
        if not encoders & decoders:
            return Verdict.failed(msg("check.roles.latents", encoders=sorted(encoders),
                                      decoders=sorted(decoders)))
    return Verdict.passed(msg("check.roles.found",
                              parts=[describe_part(m, p) for m, p in chosen[:6]]))
