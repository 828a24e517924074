"""The Python a notebook runs with in the local sandboxes: the student environment.

A notebook must import the same packages on this machine as in the grading image, and
none of nngrade's own (docker, SQLAlchemy, psycopg, ray, typer, nngrade itself). So the
local backends run nngrade's agent with a separate virtual environment made from the
image's own list (image/requirements.txt) plus TensorFlow and tf-keras as the image's
``--cpu`` build installs them, never with the interpreter nngrade runs in.

``python -m runner.sandbox.student_env`` makes it, or brings it in line with the list
(setup.sh runs it); ``NNGRADE_STUDENT_PYTHON`` points the backends at another Python.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel, ValidationError

from runner.errors import NngradeError, SandboxUnavailable
from runner.i18n.message import Message, msg

SETTING = "NNGRADE_STUDENT_PYTHON"
# Beside the code that runs (where setup.sh makes it), not under NNGRADE_HOME, which may
# be a course's own folder of assignments.
CHECKOUT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = CHECKOUT / ".student-env"
REQUIREMENTS = CHECKOUT / "image" / "requirements.txt"
AGENT_MODULES = ("nbclient", "nbformat", "ipykernel", "numpy")  # what the agent imports
OWN_DISTRIBUTION = "nngrade"
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")
# Run by the student environment's Python itself, isolated (-I: no PYTHONPATH, no
# user site, no current folder), so it reports exactly what a notebook would import.
_INSPECT = """\
import importlib.metadata as metadata, importlib.util as util, json, sys

def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None

print(json.dumps({"prefix": sys.prefix, "base_prefix": sys.base_prefix,
                  "missing": [m for m in %r if util.find_spec(m) is None],
                  "installed": {name: version(name) for name in sys.argv[1:]}}))
"""


class StudentPython(BaseModel):
    """What the environment's own interpreter says about itself (parsed, not trusted)."""

    python: str  # the path to run: a virtual environment's bin/python, not its target
    prefix: str
    base_prefix: str
    missing: list[str]  # agent modules it cannot import
    installed: dict[str, str | None]  # version of each distribution asked about

    @property
    def paths(self) -> list[str]:
        """What a sandbox must bind for it to run: the environment and its base Python."""
        paths = {self.prefix, self.base_prefix, os.path.realpath(self.prefix),
                 os.path.realpath(self.base_prefix)}
        return sorted(p for p in paths if p != "/usr" and not p.startswith("/usr/"))


def configured() -> Path:
    """The interpreter the local sandboxes run notebooks with."""
    value = os.environ.get(SETTING)
    return Path(value) if value else DEFAULT_DIR / "bin" / "python"


def pins(text: str) -> dict[str, str]:
    """``name==version`` lines of a requirements text, by name."""
    return {m.group(1): m.group(2) for line in text.splitlines() if (m := _PIN.match(line))}


def listed() -> dict[str, str]:
    """The pinned packages of image/requirements.txt; none where nngrade is not a checkout."""
    return pins(REQUIREMENTS.read_text()) if REQUIREMENTS.is_file() else {}


def inspect(python: Path, names: list[str]) -> StudentPython:
    """Ask ``python`` where it lives, whether the agent can run, and these versions."""
    try:
        done = subprocess.run([str(python), "-I", "-c", _INSPECT % (AGENT_MODULES,), *names],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise _unavailable(msg("error.student_env.does_not_run", python=str(python),
                               error=str(error))) from error
    if done.returncode:
        raise _unavailable(msg("error.student_env.does_not_run", python=str(python),
                               error=done.stderr.strip()[-500:]
                               or msg("error.student_env.exit_code", code=done.returncode)))
    try:
        return StudentPython(python=str(python), **json.loads(done.stdout))
    except (ValueError, TypeError, ValidationError) as error:
        raise _unavailable(msg("error.student_env.not_python", python=str(python),
                               error=str(error))) from error


def locate() -> StudentPython:
    """The student environment, ready to run the agent; SandboxUnavailable saying why not."""
    python = configured()
    if not python.exists():
        raise _unavailable(msg("error.student_env.missing", python=str(python)))
    found = inspect(python, [OWN_DISTRIBUTION, *listed()])
    if found.installed.get(OWN_DISTRIBUTION):
        raise _unavailable(msg("error.student_env.has_nngrade", python=str(python)))
    if found.missing:
        raise _unavailable(msg("error.student_env.lacks", python=str(python),
                               packages=list(found.missing)))
    return found


def differences(found: StudentPython, wanted: dict[str, str]) -> list[str]:
    """Each wanted package whose installed version is another, in words."""
    return [f"{name} {found.installed.get(name) or 'missing'} (listed: {version})"
            for name, version in wanted.items() if found.installed.get(name) != version]


def report_notes(found: StudentPython) -> list[Message]:
    """What the report says when the environment has drifted from the image's list."""
    drift = differences(found, listed())
    if not drift:
        return []
    return [msg("note.student_env_drift", python=str(found.python), drift=drift)]


def _unavailable(message: Message) -> SandboxUnavailable:
    hint = ("error.student_env.hint.setting" if os.environ.get(SETTING)
            else "error.student_env.hint.setup")
    return SandboxUnavailable(message, hint=msg(hint, setting=SETTING))


def tensorflow_requirements(machine: str) -> list[str]:
    """TensorFlow as the image's --cpu build has it (tensorflow-cpu exists for x86_64 only)."""
    from runner.image import CPU_TENSORFLOW, TF_KERAS

    version = CPU_TENSORFLOW.split("==")[1]
    cpu = machine.lower() in ("x86_64", "amd64")
    return [CPU_TENSORFLOW if cpu else f"tensorflow=={version}", TF_KERAS]


def make(env_dir: Path, base_python: str) -> None:
    """Create the environment, or install what differs from the list; quick when nothing does."""
    python = env_dir / "bin" / "python"
    tensorflow, tf_keras = tensorflow_requirements(platform.machine())
    if not REQUIREMENTS.is_file():
        raise NngradeError(f"{REQUIREMENTS} is missing", hint="Run this from a clone of nngrade.")
    wanted = {**listed(), **pins(f"{tensorflow}\n{tf_keras}")}
    try:
        found = inspect(python, list(wanted)) if python.exists() else None
    except SandboxUnavailable:
        found = None  # e.g. its base Python was removed: make it again
    if found is not None and not found.missing and not differences(found, wanted):
        return
    if found is None:
        print(f"student-env: creating {env_dir}", flush=True)
        _run([base_python, "-m", "venv", "--clear", str(env_dir)])
    print(f"student-env: installing image/requirements.txt and {tensorflow} into {env_dir} "
          "(a few minutes)", flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    _run([*pip, "--upgrade", "pip"])
    _run([*pip, "-r", str(REQUIREMENTS), tensorflow])
    # tf-keras asks for `tensorflow` by name, which tensorflow-cpu provides under another.
    _run([*pip, "--no-deps", tf_keras])
    drift = differences(inspect(python, list(wanted)), wanted)
    if drift:
        raise NngradeError(f"{env_dir} still differs from the list after installing: "
                           + "; ".join(drift),
                           hint="Check the pins in image/requirements.txt against what pip "
                                "can install here.")


def _run(command: list[str]) -> None:
    done = subprocess.run(command)
    if done.returncode:
        raise NngradeError(f"`{' '.join(command)}` failed (exit code {done.returncode})",
                           hint="Its output above says why; fix that and run ./setup.sh again.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.sandbox.student_env",
                                     description="Make or update the local sandbox's Python.")
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--python", default="python3", help="the Python to base it on")
    args = parser.parse_args(argv)
    try:
        make(args.dir, args.python)
    except NngradeError as error:
        print(f"student-env: {error.message}\n{error.hint or ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
