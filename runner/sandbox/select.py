"""Choose a sandbox backend and the GPUs a run may use."""

from __future__ import annotations

import re
from pathlib import Path

from runner.errors import SandboxUnavailable
from runner.i18n.message import msg
from runner.sandbox import engine
from runner.sandbox.backends import Backend, Bubblewrap, bubblewrap_works
from runner.spec import GpuPolicy

BACKENDS = ("auto", "docker", "local", "none")
BACKEND_HELP = ("Sandbox: docker (a locked-down container from the grading image), local "
                "(bubblewrap namespaces on this machine), none (no isolation: only with "
                "--unsafe-no-sandbox, or for `check`), or auto: docker when an engine and the "
                "grading image are there, else local.")


def choose_backend(name: str, *, allow_unsandboxed: bool, image: str | None = None) -> Backend:
    """``auto`` prefers the container, then bubblewrap; ``none`` only when the caller allows."""
    from runner.sandbox.docker_backend import Docker

    if name not in BACKENDS:
        raise SandboxUnavailable(msg("error.sandbox.unknown_backend", name=name),
                                 hint=msg("error.sandbox.unknown_backend.hint",
                                          backends=list(BACKENDS)))
    if name == "docker":
        engine.client()  # raises, saying why, when no engine answers
        engine.require_image(engine.image_name(image))
        return Docker(image)
    if name == "auto" and engine.engine_reachable() and engine.has_image(
            engine.image_name(image)):
        return Docker(image)
    if name in ("auto", "local") and bubblewrap_works():
        return Bubblewrap()
    if name == "local":
        raise SandboxUnavailable(msg("error.sandbox.no_bubblewrap"),
                                 hint=msg("error.sandbox.no_bubblewrap.hint"))
    if name in ("none", "auto") and allow_unsandboxed:
        return Backend()
    if name == "none":
        raise SandboxUnavailable(msg("error.sandbox.none_needs_consent"),
                                 hint=msg("error.sandbox.none_needs_consent.hint"))
    raise SandboxUnavailable(msg("error.sandbox.none_available"),
                             hint=msg("error.sandbox.none_available.hint"))


def visible_gpus(dev: Path = Path("/dev")) -> list[str]:
    """NVIDIA GPU ids as their device files show them."""
    return sorted((m.group(1) for p in dev.glob("nvidia*")
                   if (m := re.fullmatch(r"nvidia(\d+)", p.name))), key=int)


def gpus_for(policy: GpuPolicy, requested: list[str] | None) -> list[str]:
    """The GPUs one submission gets: none, the requested ones, or the first visible one."""
    if policy is GpuPolicy.never:
        return []
    available = visible_gpus() if requested is None else requested
    if policy is GpuPolicy.required and not available:
        raise SandboxUnavailable(msg("error.sandbox.no_gpu"),
                                 hint=msg("error.sandbox.no_gpu.hint"))
    return available[:1]
