"""Build the grading image from the repository's Dockerfile.

The build context is cut down to what runs inside the sandbox (``.dockerignore``
names it): the agent and probe, and the image's requirements. For hosts that reach
no package index from containers, ``wheelhouse`` first downloads every wheel with the
host's own pip (and its mirrors, certificates and proxies), then serves that folder
to the build on the host's loopback.
"""

from __future__ import annotations

import functools
import io
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from runner import __version__
from runner.errors import NngradeError
from runner.i18n.message import msg
from runner.paths import ProjectPaths
from runner.sandbox import engine

DEFAULT_TENSORFLOW = "tensorflow[and-cuda]==2.21.0"
CPU_TENSORFLOW = "tensorflow-cpu==2.21.0"
TF_KERAS = "tf-keras==2.21.0"
WHEELHOUSE_PORT = 38765
CONTEXT_FILES = ("Dockerfile", ".dockerignore", "image/requirements.txt")


class ImageBuildFailed(NngradeError):
    """docker build stopped with an error."""


def build_context(root: Path) -> bytes:
    """A gzipped tar of exactly what the Dockerfile copies."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in CONTEXT_FILES:
            tar.add(root / name, arcname=name)
        probe = root / "runner" / "probe"
        for path in sorted(probe.rglob("*.py")):
            tar.add(path, arcname=str(path.relative_to(root)))
    return buffer.getvalue()


def fill_wheelhouse(folder: Path, tensorflow: str, root: Path) -> None:
    """Download every wheel the image needs, with the host's pip and its configuration.

    A requirement published only as source (tensorflow-datasets' ``promise``) is built
    into a wheel here; the image then installs from wheels alone.
    """
    folder.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--prefer-binary",
           "--wheel-dir", str(folder)]
    for command in ([*pip, "-r", str(root / "image/requirements.txt"), tensorflow],
                    [*pip, "--no-deps", TF_KERAS]):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise ImageBuildFailed(msg("error.image.wheels", output=done.stderr.strip()[-2000:]),
                                   hint=msg("error.image.wheels.hint"))


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` read-only over HTTP on the loopback; yields its URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:  # a fixed port keeps the URL, and so docker's build cache, the same between builds
        server = ThreadingHTTPServer(("127.0.0.1", WHEELHOUSE_PORT), handler)
    except OSError:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def build_image(*, tag: str, base: str | None = None, tensorflow: str = DEFAULT_TENSORFLOW,
                wheelhouse: Path | None = None,
                on_line: Callable[[str], None] = lambda line: None) -> str:
    """Build the grading image; returns its id. ``on_line`` receives the build's log."""
    root = ProjectPaths.default().root
    args = {"TENSORFLOW": tensorflow, "TF_KERAS": TF_KERAS, "NNGRADE_VERSION": __version__}
    if base:
        args["BASE"] = base
    if wheelhouse is None:
        return _build(root, tag, args, None, on_line)
    on_line(f"downloading wheels into {wheelhouse} with the host's pip")
    fill_wheelhouse(wheelhouse, tensorflow, root)
    with serve_folder(wheelhouse) as url:
        args["PIP_OPTIONS"] = f"--no-index --find-links {url}"
        return _build(root, tag, args, "host", on_line)


def _build(root: Path, tag: str, args: dict[str, str], network: str | None,
           on_line: Callable[[str], None]) -> str:
    api = engine.client().api
    log: list[str] = []
    image_id = None
    stream = api.build(fileobj=io.BytesIO(build_context(root)), custom_context=True,
                       encoding="gzip", tag=tag, buildargs=args, network_mode=network,
                       rm=True, forcerm=True, decode=True, pull=False)
    for chunk in stream:
        if "error" in chunk:
            raise ImageBuildFailed(msg("error.image.build", tag=tag,
                                       error=str(chunk["error"]).strip(),
                                       log="\n".join(log[-20:])),
                                   hint=msg("error.image.build.hint"))
        if "aux" in chunk and isinstance(chunk["aux"], dict):
            image_id = chunk["aux"].get("ID", image_id)
        for line in str(chunk.get("stream", "")).splitlines():
            if line.strip():
                log.append(line)
                on_line(line)
    if image_id is None:
        raise ImageBuildFailed(msg("error.image.no_image", tag=tag),
                               hint=msg("error.image.no_image.hint"))
    return image_id
