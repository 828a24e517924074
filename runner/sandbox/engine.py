"""The Docker engine: connect once, tell whether it and the grading image are usable.

The engine is found the way the docker CLI finds it (``DOCKER_HOST`` and friends),
so a remote engine works: nngrade never shares paths with it, only the API.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket

import psutil

from runner.errors import SandboxUnavailable
from runner.i18n.message import msg

DEFAULT_IMAGE = "nngrade-grader:latest"
IMAGE_ENV = "NNGRADE_IMAGE"
API_TIMEOUT_SECONDS = 120
OWNER_LABEL = "org.nngrade.owner"  # host:pid of the nngrade process that started it


def image_name(requested: str | None = None) -> str:
    return requested or os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE


@functools.cache
def client():
    """A docker client, or SandboxUnavailable saying why there is none."""
    try:
        import docker
    except ImportError as error:  # pragma: no cover - docker is a dependency
        raise SandboxUnavailable("the docker Python package is missing",
                                 hint="pip install docker") from error
    try:
        engine = docker.from_env(timeout=API_TIMEOUT_SECONDS)
        engine.ping()
    except Exception as error:  # connection refused, no socket, bad DOCKER_HOST, ...
        raise SandboxUnavailable(msg("error.docker.unreachable", error=_short(error)),
                                 hint=msg("error.docker.unreachable.hint")) from error
    return engine


def engine_reachable() -> bool:
    try:
        client()
    except SandboxUnavailable:  # not cached: the next call asks the engine again
        return False
    return True


def has_image(name: str) -> bool:
    import docker.errors

    try:
        client().images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def require_image(name: str) -> None:
    if not has_image(name):
        raise SandboxUnavailable(msg("error.docker.no_image", image=name),
                                 hint=msg("error.docker.no_image.hint", setting=IMAGE_ENV))


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@functools.cache
def remove_orphans() -> int:
    """Remove containers left by nngrade processes of this host that are gone (SIGKILL).

    They would end by themselves after their time limit; this frees them at once.
    Runs once per process.
    """
    import docker.errors

    host = socket.gethostname()
    removed = 0
    for container in client().containers.list(all=True, filters={"label": OWNER_LABEL}):
        owner_host, _, pid = container.labels.get(OWNER_LABEL, "").rpartition(":")
        if owner_host == host and pid.isdigit() and not psutil.pid_exists(int(pid)):
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
                removed += 1
    return removed


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[-1][:200] if text else type(error).__name__
