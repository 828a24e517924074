"""Local sandbox backends: bubblewrap isolation, or none at all when explicitly allowed.

Both run the same agent over the same job folder; they differ in what the
student's process can see and reach. The Docker backend plugs in the same way.
Both run it with the student environment's Python (student_env.py), never with
nngrade's own, so a notebook imports here what it imports in the grading image.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from runner.errors import SandboxUnavailable
from runner.i18n.message import Message, msg
from runner.sandbox import student_env
from runner.sandbox.job import READ_ONLY_PARTS, JobDir
from runner.sandbox.watchdog import Supervised, supervise
from runner.spec import Limits

GRACE_SECONDS = 30
SANDBOX_ROOT = PurePosixPath("/job")
# Only what Python, the frameworks and fonts need from /etc: no shadow files, no keys.
ETC_ALLOWED = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
               "hosts", "localtime", "fonts", "ssl/certs", "alternatives", "mime.types")
# Places where data sets are installed system-wide: hidden, since they hold the test labels.
HIDDEN_DATA_DIRS = ("/usr/share/datasets",)


@dataclass(frozen=True)
class RunRequest:
    job: JobDir
    limits: Limits
    gpus: list[str]  # device ids the sandbox may use; empty for none
    on_poll: Callable[[], None] | None = None


class Backend:
    """No sandbox (`check` on one's own machine, or --unsafe-no-sandbox).

    It runs the student environment too, so a result matches the sandboxes'. Where that
    is missing it falls back to nngrade's own Python and the report says so: isolation
    is already off here, and a student checking a notebook on a laptop still gets an
    answer.
    """

    name = "none"
    isolated = False
    network = True

    def __init__(self) -> None:
        try:
            found = student_env.locate()
        except SandboxUnavailable as missing:
            self.python = sys.executable
            self.python_notes: list[Message] = [msg(
                "note.own_python", python=sys.executable, why=missing.detail,
                hint=missing.hint_detail or "")]
        else:
            self.python = found.python
            self.python_notes = student_env.report_notes(found)

    def job_dir(self, root: Path) -> JobDir:
        return JobDir.create(root)

    def describe(self) -> dict[str, str]:
        """What else the report should say about this sandbox."""
        return {}

    def command(self, request: RunRequest) -> list[str]:
        return [self.python, *request.job.agent_args]

    def environment(self, request: RunRequest) -> dict[str, str]:
        env = request.job.environment(str(Path(self.python).parent))
        env["CUDA_VISIBLE_DEVICES"] = ",".join(request.gpus)
        return env

    def run(self, request: RunRequest) -> Supervised:
        limits = request.limits
        result = supervise(self.command(request), env=self.environment(request),
                           cwd=str(request.job.work),
                           seconds=limits.total_seconds + GRACE_SECONDS,
                           memory_mb=limits.memory_mb, processes=limits.processes,
                           on_poll=request.on_poll)
        return replace(result, notes=[*self.python_notes, *result.notes])


class Bubblewrap(Backend):
    """Namespaces without root: no network, read-only system, only the job folder writable."""

    name = "bubblewrap"
    isolated = True
    network = False

    def __init__(self) -> None:
        found = student_env.locate()  # no fallback: raises, saying to run ./setup.sh
        self.python = found.python
        self.python_notes = student_env.report_notes(found)
        self.python_paths = found.paths  # bound read-only; nngrade's own .venv is not

    def job_dir(self, root: Path) -> JobDir:
        return JobDir.create(root, SANDBOX_ROOT)

    def command(self, request: RunRequest) -> list[str]:
        job = request.job
        argv = ["bwrap", "--die-with-parent", "--new-session", "--unshare-all",
                "--uid", "1000", "--gid", "1000", "--hostname", "sandbox",
                "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
                "--tmpfs", "/tmp"]
        for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
            if os.path.islink(top):
                argv += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                argv += ["--ro-bind", top, top]
        for name in ETC_ALLOWED:
            if os.path.exists(f"/etc/{name}"):
                argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        for path in self.python_paths:
            argv += ["--ro-bind", path, path]
        for hidden in HIDDEN_DATA_DIRS:
            if os.path.isdir(hidden):
                argv += ["--tmpfs", hidden]
        argv += ["--bind", str(job.root), str(job.inside)]
        for part in READ_ONLY_PARTS:  # a clean-room job has no probe.json
            if (job.root / part).exists():
                argv += ["--ro-bind", str(job.root / part), str(job.inside / part)]
        for folder in job.shared:
            argv += ["--ro-bind", str(folder), str(folder)]
        argv += _gpu_devices(request.gpus)
        argv += ["--clearenv"]
        for key, value in self.environment(request).items():
            argv += ["--setenv", key, value]
        argv += ["--chdir", job.seen(job.work), self.python, *job.agent_args]
        return argv


def _gpu_devices(gpus: list[str]) -> list[str]:
    if not gpus:
        return []
    shared = ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"]
    devices = [d for d in shared if os.path.exists(d)]
    devices += [f"/dev/nvidia{gpu}" for gpu in gpus if os.path.exists(f"/dev/nvidia{gpu}")]
    return [arg for device in devices for arg in ("--dev-bind", device, device)]


@functools.cache
def bubblewrap_works() -> bool:
    """bwrap is installed and this kernel lets it create the namespaces it needs."""
    if shutil.which("bwrap") is None:
        return False
    probe = ["bwrap", "--unshare-all", "--uid", "1000", "--ro-bind", "/", "/", "true"]
    return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
