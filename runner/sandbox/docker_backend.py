"""Run a job in a locked-down Docker container, through the engine's API only.

One container per submission: no network, read-only root filesystem, every
capability dropped, no-new-privileges, limits on memory (no swap), CPUs and
processes. The job folder lives on a size-capped tmpfs inside the container;
files travel in and out as tar streams over ``docker exec``, so nothing depends on
paths shared with the engine and a remote ``DOCKER_HOST`` works. Nothing the
container writes is trusted: ``out/`` comes back through a size-capped, filtered
extraction, and the container is always removed.

Users inside: the container's own process (``sleep``) and the read-only half of the
job belong to uid 1500; the student's code runs as a per-job uid that owns only
``work/``, ``home/``, ``out/`` and ``ipython/``, so it can neither signal the
container's process nor change the read-only files. A collector started as that uid
before the notebook ends its processes and hands ``out/`` back (probe/collect.py).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import socket
import tarfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import docker.errors
import docker.types
from docker.utils.socket import STDERR, STDOUT, frames_iter

from runner.errors import SandboxUnavailable
from runner.i18n.message import msg
from runner.sandbox import engine
from runner.sandbox.backends import GRACE_SECONDS, Backend, RunRequest
from runner.sandbox.docker_shared import ensure_volume, owned_by_nobody, volume_name
from runner.sandbox.engine import OWNER_LABEL
from runner.sandbox.job import PROBE_PACKAGE, READ_ONLY_PARTS, JobDir
from runner.sandbox.watchdog import OUTPUT_TAIL_BYTES, Supervised, over_process_limit

INSIDE = PurePosixPath("/job")
HOLDER_UID = 1500
STUDENT_UIDS = (20000, 59999)
LINGER_SECONDS = 600  # room to copy out/ after the time limit, before the container ends
PID_HEADROOM = 32  # pids under the container's limit that the student's uid cannot take
TMP_MB = 512
SHM_MB = 512
OUT_MB = 256
MAX_OUT_BYTES = OUT_MB * 2**20
MAX_OUT_FILES = 2000
PROGRESS_EVERY_SECONDS = 2.0
STATS_EVERY_SECONDS = 1.0
PYTHON_BIN = "/opt/venv/bin"
OUT = f"{INSIDE}/out"
COLLECTOR = f"{PROBE_PACKAGE}.collect"


@dataclass(frozen=True)
class ContainerPlan:
    """Everything the engine is asked for, computed without touching it (and tested so)."""

    image: str
    student_uid: int
    create: dict
    agent_environment: dict[str, str]


class Docker(Backend):
    """The grading image as the sandbox: the default where a Docker engine is reachable."""

    name = "docker"
    isolated = True
    network = False

    def __init__(self, image: str | None = None) -> None:
        self.image = engine.image_name(image)
        self.started: list[str] = []  # ids of the containers this backend ran

    def job_dir(self, root: Path) -> JobDir:
        return JobDir.create(root, INSIDE)

    def describe(self) -> dict[str, str]:
        return {"image": self.image}

    def plan(self, request: RunRequest) -> ContainerPlan:
        """The container's settings for one run."""
        limits = request.limits
        uid = random.randint(*STUDENT_UIDS)
        environment = request.job.environment(PYTHON_BIN)
        environment["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in range(len(request.gpus)))
        create = {
            "image": self.image,
            # Ends (and auto_remove removes the container) even if this process dies.
            "command": ["sleep", str(limits.total_seconds + GRACE_SECONDS + LINGER_SECONDS)],
            "auto_remove": True,
            "user": f"{HOLDER_UID}:{HOLDER_UID}",
            "init": True,
            "network_mode": "none",
            "read_only": True,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "tmpfs": {
                str(INSIDE): f"size={limits.disk_mb + _megabytes(request.job)}m,mode=1777,"
                             f"uid={HOLDER_UID},gid={HOLDER_UID},nosuid,nodev",
                # Its own space, so a notebook that fills the disk cannot stop the record.
                OUT: f"size={OUT_MB}m,mode=0700,uid={uid},gid={uid},nosuid,nodev",
                "/tmp": f"size={TMP_MB}m,mode=1777,nosuid,nodev",
            },
            "shm_size": f"{SHM_MB}m",
            "mem_limit": f"{limits.memory_mb}m",
            "memswap_limit": f"{limits.memory_mb}m",
            "pids_limit": limits.processes + PID_HEADROOM,
            "ulimits": [{"Name": "nproc", "Soft": limits.processes, "Hard": limits.processes},
                        {"Name": "core", "Soft": 0, "Hard": 0}],
            "environment": {"NVIDIA_DRIVER_CAPABILITIES": "compute,utility"},
            "labels": {"org.nngrade.job": request.job.root.name, OWNER_LABEL: engine.owner()},
            "detach": True,
        }
        if request.job.shared:  # volumes filled once (docker_shared.py), at the same paths
            create["volumes"] = {volume_name(folder): {"bind": str(folder), "mode": "ro"}
                                 for folder in request.job.shared}
        if limits.cpus:
            create["nano_cpus"] = int(limits.cpus * 1e9)
        if request.gpus:
            create["device_requests"] = [{"Driver": "", "DeviceIDs": list(request.gpus),
                                          "Capabilities": [["gpu"]]}]
        return ContainerPlan(self.image, uid, create, environment)

    def run(self, request: RunRequest) -> Supervised:
        client = engine.client()
        engine.require_image(self.image)
        engine.remove_orphans()
        plan = self.plan(request)
        try:
            for folder in request.job.shared:
                ensure_volume(client, self.image, folder, volume_name(folder))
        except docker.errors.APIError as error:
            raise SandboxUnavailable(
                msg("error.docker.not_started", error=str(error.explanation or error)),
                hint=msg("error.docker.not_started.hint")) from error
        create = dict(plan.create)
        create["ulimits"] = [docker.types.Ulimit(name=u["Name"], soft=u["Soft"], hard=u["Hard"])
                             for u in create["ulimits"]]
        if "device_requests" in create:
            create["device_requests"] = [
                docker.types.DeviceRequest(driver=d["Driver"], device_ids=d["DeviceIDs"],
                                           capabilities=d["Capabilities"])
                for d in create["device_requests"]]
        try:
            container = client.containers.run(**create)
        except docker.errors.APIError as error:
            raise SandboxUnavailable(
                msg("error.docker.not_started", error=str(error.explanation or error)),
                hint=msg("error.docker.not_started.hint")) from error
        self.started.append(container.id)
        try:
            return _Session(client.api, container.id, request, plan).run()
        finally:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)


class _Session:
    """One run inside a started container: copy in, execute, watch, stop, copy out."""

    def __init__(self, api, container_id: str, request: RunRequest, plan: ContainerPlan) -> None:
        self.api, self.id, self.request, self.plan = api, container_id, request, plan
        self.student = f"{plan.student_uid}:{plan.student_uid}"
        self.tail: deque[bytes] = deque()
        self.peak_memory = 0
        self.peak_pids = 0
        self.own_pids = 0  # the container's own tasks (init, sleep): not the student's

    def run(self) -> Supervised:
        job, limits = self.request.job, self.request.limits
        self._put(_tar_parts(job.root, READ_ONLY_PARTS), user=f"{HOLDER_UID}:{HOLDER_UID}")
        writable = [p.name for p in job.root.iterdir() if p.name not in READ_ONLY_PARTS]
        self._put(_tar_parts(job.root, writable), user=self.student)
        self.own_pids = self._sample()
        collector = self._start(["python3", "-m", COLLECTOR, "--wait", OUT], stdin=True)
        started = time.monotonic()
        since = int(time.time())
        agent = self.api.exec_create(self.id, ["python3", *job.agent_args], user=self.student,
                                     environment=self.plan.agent_environment,
                                     workdir=str(INSIDE / "work"))["Id"]
        output = self.api.exec_start(agent, stream=True)
        reader = threading.Thread(target=self._drain, args=(output,), daemon=True)
        reader.start()
        killed_for = self._watch(agent, started, limits.total_seconds + GRACE_SECONDS)
        self._sample()  # before the collector ends them: processes left running count too
        # The collector ends every process of the student's uid, a fork bomb's too.
        archive = self._collect(collector)
        reader.join(timeout=5)
        seconds = time.monotonic() - started
        returncode = self.api.exec_inspect(agent).get("ExitCode")
        if killed_for is None and self._out_of_memory(since):
            killed_for = "memory"
        elif killed_for is None and self._at_process_limit():
            killed_for = "processes"
        refused = extract_out(archive, job.root)
        return Supervised(returncode, seconds, killed_for, self.peak_memory / 2**20,
                          b"".join(self.tail).decode("utf-8", "replace"),
                          [msg("note.not_read_back", entry=name) for name in refused])

    def _watch(self, exec_id: str, started: float, seconds: float) -> str | None:
        """Wait for the agent; the limit that ended the run early, if one did.

        The pid limits only make forks fail: a fork bomb at its limit would spin until
        it gave up or the time ran out. Reaching the limit ends the run at once instead,
        as the local watchdog does.
        """
        last_progress = last_stats = 0.0
        while not _finished(self.api.exec_inspect(exec_id)):
            now = time.monotonic()
            if now - started > seconds:
                return "time"
            if now - last_stats >= STATS_EVERY_SECONDS:
                last_stats = now
                self._sample()
                if self._at_process_limit():
                    return "processes"
            if self.request.on_poll and now - last_progress >= PROGRESS_EVERY_SECONDS:
                last_progress = now
                self._copy_progress()
                self.request.on_poll()
            time.sleep(0.2)
        return None

    def _sample(self) -> int:
        """Record the peaks; the container's tasks now (processes and threads, as cgroups
        count them), 0 when the engine did not say."""
        try:
            stats = self.api.stats(self.id, stream=False, one_shot=True)
        except Exception:  # a stats hiccup must not end the run
            return 0
        memory = stats.get("memory_stats") or {}
        self.peak_memory = max(self.peak_memory, int(memory.get("max_usage")
                                                     or memory.get("usage") or 0))
        pids = int((stats.get("pids_stats") or {}).get("current") or 0)
        self.peak_pids = max(self.peak_pids, pids)
        return pids

    def _at_process_limit(self) -> bool:
        """The student's uid has had as many tasks as its limit allows (the container's own
        tasks, counted before the student's first process, are not the student's)."""
        return over_process_limit(self.peak_pids - self.own_pids, self.request.limits.processes)

    def _out_of_memory(self, since: int) -> bool:
        events = self.api.events(since=since, until=int(time.time()) + 1, decode=True,
                                 filters={"container": self.id, "event": "oom"})
        return any(True for _ in events)

    def _drain(self, output) -> None:
        kept = 0
        for chunk in output:
            self.tail.append(chunk)
            kept += len(chunk)
            while kept > OUTPUT_TAIL_BYTES and len(self.tail) > 1:
                kept -= len(self.tail.popleft())

    def _start(self, command: list[str], *, stdin: bool = False):
        """Start one of nngrade's commands as the student's uid; its raw socket."""
        exec_id = self.api.exec_create(self.id, command, user=self.student, stdin=stdin,
                                       environment=self.plan.agent_environment)["Id"]
        sock = self.api.exec_start(exec_id, socket=True)
        return exec_id, sock

    def _collect(self, collector) -> bytes:
        """Stop the student's processes and read out/, through the collector if it lives."""
        _, sock = collector
        try:
            _send_stdin(sock, b"go")
            archive = _read_stdout(sock, MAX_OUT_BYTES)
        except OSError:
            archive = b""
        if archive:
            return archive
        try:  # the notebook killed the collector: start it again, if a process slot is free
            _, sock = self._start(["python3", "-m", COLLECTOR, OUT])
            return _read_stdout(sock, MAX_OUT_BYTES)
        except Exception:
            return b""

    def _copy_progress(self) -> None:
        try:
            _, sock = self._start(["head", "-c", "1048576", f"{OUT}/progress.jsonl"])
            data = _read_stdout(sock, 1 << 20)
        except Exception:  # no free process slot, or the file is not there yet
            return
        if data:
            (self.request.job.out / "progress.jsonl").write_bytes(data)

    def _put(self, archive: bytes, *, user: str) -> None:
        exec_id = self.api.exec_create(self.id, ["tar", "-x", "--no-same-owner", "-C",
                                                 str(INSIDE)], stdin=True, user=user)["Id"]
        sock = self.api.exec_start(exec_id, socket=True)
        _send_stdin(sock, archive)
        problem = _read_stdout(sock, 1 << 16, stream=STDERR)
        code = self.api.exec_inspect(exec_id).get("ExitCode")
        if code:
            raise SandboxUnavailable(
                msg("error.docker.copy_failed",
                    error=problem.decode(errors="replace").strip()[:300]),
                hint=msg("error.docker.copy_failed.hint"))


def _send_stdin(sock, data: bytes) -> None:
    """Write all of an exec's stdin, then close it (the read side stays open)."""
    raw = getattr(sock, "_sock", sock)  # docker-py wraps the hijacked socket
    raw.sendall(data)
    raw.shutdown(socket.SHUT_WR)


def _finished(state: dict) -> bool:
    """An exec has ended: not running and with an exit code (before it starts it has none)."""
    return not state.get("Running") and state.get("ExitCode") is not None


def _read_stdout(sock, limit: int, stream: int = STDOUT) -> bytes:
    """Read one stream of an exec's multiplexed output until EOF, keeping ``limit`` bytes."""
    received: list[bytes] = []
    size = 0
    try:
        for kind, data in frames_iter(sock, tty=False):
            if kind != stream:
                continue
            size += len(data)
            if size > limit:
                break
            received.append(data)
    finally:
        sock.close()
    return b"".join(received)


def _megabytes(job: JobDir) -> int:
    """Room for the read-only part of the job, which shares the tmpfs with the rest."""
    size = sum(p.stat().st_size for part in READ_ONLY_PARTS if (job.root / part).exists()
               for p in ([job.root / part] if (job.root / part).is_file()
                         else (job.root / part).rglob("*")) if p.is_file())
    return size // 2**20 + 16


def _tar_parts(root: Path, names: list[str] | tuple[str, ...]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in names:
            if (root / name).exists():
                tar.add(root / name, arcname=name, filter=owned_by_nobody)
    return buffer.getvalue()


def extract_out(data: bytes, root: Path) -> list[str]:
    """Unpack the container's ``out/`` tar into ``root/out``, refusing anything odd.

    Only regular files and folders under ``out/``, no links, no devices, no absolute or
    ``..`` names, at most MAX_OUT_FILES members; a truncated archive keeps the members
    that arrived whole. Returns what was refused, for the report's notes.
    """
    refused: list[str] = []
    out = (root / "out").resolve()
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for count, member in enumerate(_members(tar, refused)):
                if count >= MAX_OUT_FILES:
                    refused.append("more files than the limit")
                    break
                parts = PurePosixPath(member.name).parts
                if (not parts or parts[0] != "out" or any(p in ("..", "") for p in parts)
                        or PurePosixPath(member.name).is_absolute()):
                    refused.append(member.name[:100])
                    continue
                target = out.joinpath(*parts[1:])
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    _write_member(tar, member, target, out, refused)
                else:
                    refused.append(member.name[:100])
    except tarfile.TarError:
        refused.append("the rest of a truncated or broken archive")
    return refused


def _members(tar: tarfile.TarFile, refused: list[str]):
    while True:
        try:
            member = tar.next()
        except tarfile.TarError:
            refused.append("the rest of a truncated or broken archive")
            return
        if member is None:
            return
        yield member


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, out: Path,
                  refused: list[str]) -> None:
    if target.parent.resolve() != out and out not in target.parent.resolve().parents:
        refused.append(member.name[:100])
        return
    source = tar.extractfile(member)
    data = source.read() if source is not None else b""
    if len(data) != member.size:
        refused.append(f"{member.name[:100]} (cut short)")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_dir():
        refused.append(member.name[:100])
        return
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.write_bytes(data)
    os.chmod(partial, 0o644)
    os.replace(partial, target)
