"""Enforce wall-clock, memory and process limits on a process tree from outside it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import psutil

from runner.i18n.message import Message

POLL_SECONDS = 0.1  # memory is sampled: a fast allocation can overshoot by one interval
OUTPUT_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class Supervised:
    """How a supervised process tree ended."""

    returncode: int | None
    seconds: float
    killed_for: str | None  # "time", "memory", "processes" or None
    peak_memory_mb: float
    output_tail: str
    notes: list[Message] = field(default_factory=list)  # for the report


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def over_process_limit(tasks: int, limit: int) -> bool:
    """The one process rule of both sandboxes: ``tasks`` counts processes *and* threads.

    The kernel's limits count that way (a thread is a task, like a process): Docker's
    per-uid limit makes the next fork or thread fail once the student has ``limit`` of
    them, so reaching the limit is the sign; the local sandbox has no such cap and is
    held to the same line from outside.
    """
    return tasks >= limit


def _usage(processes: list[psutil.Process]) -> tuple[int, int]:
    """Resident memory in bytes and tasks (processes and their threads) of a tree."""
    rss = tasks = 0
    for process in processes:
        threads = 1  # a zombie, or one that just ended, still held its slot when listed
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            rss += process.memory_info().rss
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            threads = process.num_threads()
        tasks += threads
    return rss, tasks


def _kill(process: subprocess.Popen, tree: list[psutil.Process]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    for child in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def supervise(argv: list[str], *, env: dict[str, str], cwd: str, seconds: float,
              memory_mb: int, processes: int, on_poll=None) -> Supervised:
    """Run ``argv`` in its own session; kill the whole tree when a limit is crossed.

    ``processes`` is counted as the kernel counts it, threads included
    (:func:`over_process_limit`), so a notebook meets the same limit here as in Docker.

    Output is drained continuously and only its tail is kept, so a notebook that
    floods stdout at the file-descriptor level can neither block nor fill the host.
    """
    started = time.monotonic()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    tail: deque[bytes] = deque()
    reader = threading.Thread(target=_drain, args=(process, tail), daemon=True)
    reader.start()
    root = psutil.Process(process.pid)
    killed_for = None
    peak = 0
    while process.poll() is None:
        tree = _tree(root)
        rss, tasks = _usage(tree)
        peak = max(peak, rss)
        if time.monotonic() - started > seconds:
            killed_for = "time"
        elif over_process_limit(tasks, processes):  # before memory: forked children share
            killed_for = "processes"                # pages that the sum of RSS counts again
        elif rss > memory_mb * 2**20:
            killed_for = "memory"
        if killed_for:
            _kill(process, tree)
            break
        if on_poll is not None:
            on_poll()
        time.sleep(POLL_SECONDS)
    returncode = process.wait()
    reader.join(timeout=5)
    return Supervised(returncode, time.monotonic() - started, killed_for, peak / 2**20,
                      b"".join(tail).decode("utf-8", "replace"))


def _drain(process: subprocess.Popen, tail: deque[bytes]) -> None:
    assert process.stdout is not None
    kept = 0
    for chunk in iter(lambda: process.stdout.read1(65536), b""):
        tail.append(chunk)
        kept += len(chunk)
        while kept > OUTPUT_TAIL_BYTES and len(tail) > 1:
            kept -= len(tail.popleft())
