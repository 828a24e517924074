"""Choose a sandbox backend and the GPUs a run may use."""

from __future__ import annotations

import re
from pathlib import Path

from runner.errors import SandboxUnavailable
from runner.sandbox.backends import Backend, Bubblewrap, bubblewrap_works
from runner.spec import GpuPolicy

BACKENDS = ("auto", "bubblewrap", "none")


def choose_backend(name: str, *, allow_unsandboxed: bool) -> Backend:
    """``auto`` prefers isolation; ``none`` only when the caller allows it."""
    if name not in BACKENDS:
        raise SandboxUnavailable(f"unknown backend {name!r}",
                                 hint=f"Use one of: {', '.join(BACKENDS)}.")
    if name in ("auto", "bubblewrap") and bubblewrap_works():
        return Bubblewrap()
    if name == "bubblewrap":
        raise SandboxUnavailable("bubblewrap is not usable on this machine",
                                 hint="Install it (apt-get install bubblewrap) and make sure "
                                      "unprivileged user namespaces are enabled.")
    if allow_unsandboxed:
        return Backend()
    raise SandboxUnavailable(
        "no sandbox is available to run untrusted student code",
        hint="Install bubblewrap (apt-get install bubblewrap), or pass --unsafe-no-sandbox "
             "if you trust this notebook.")


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
        raise SandboxUnavailable("this assignment needs a GPU and none is visible",
                                 hint="Grade it on a machine with an NVIDIA GPU.")
    return available[:1]
