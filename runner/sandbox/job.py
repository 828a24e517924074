"""The job folder: everything one sandboxed run sees, and nothing more.

Layout (``root`` on the host, ``inside`` in the sandbox)::

    job.json, probe.json      what to run and what to measure
    lib/nngrade_probe/        the in-sandbox package (agent and probe), read-only
    ipython/                  IPython profile whose startup installs the probe
    data/                     public data and hidden *inputs*, read-only
    home/                     $HOME, with the dataset caches student loaders read
    work/                     the submission, and the notebook's working directory
    out/                      run.json, measurements.json, predictions, executed notebook
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from runner.paths import ProjectPaths
from runner.spec import Limits

PROBE_PACKAGE = "nngrade_probe"
READ_ONLY_PARTS = ("lib", "data", "job.json", "probe.json")
FINISH_CODE = f"import {PROBE_PACKAGE} as _nngrade_probe; _nngrade_probe.finish()"
STARTUP = """\
import {package} as _nngrade_probe
_nngrade_probe.install({config!r})
del _nngrade_probe
"""


@dataclass(frozen=True)
class JobDir:
    root: Path
    inside: PurePosixPath
    entry: str = "agent"  # module of the package the sandbox runs: agent, or cleanroom
    shared: list[Path] = field(default_factory=list, compare=False)
    """Host folders the sandbox sees read-only at their own paths, not copied into the job:
    large public data (a prepared tfds dataset) that every job of a class reads."""

    def share(self, folder: Path) -> Path:
        """Let the sandbox read ``folder`` (only it, not the folders around it) at its own
        path; the path."""
        folder = folder.resolve()
        if folder not in self.shared:
            self.shared.append(folder)
        return folder

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def work(self) -> Path:
        return self.root / "work"

    def seen(self, path: Path) -> str:
        """The path as the sandbox sees it."""
        return str(self.inside / path.relative_to(self.root))

    @classmethod
    def create(cls, root: Path, inside: PurePosixPath | None = None) -> JobDir:
        job = cls(root, inside or PurePosixPath(root))
        for part in ("data", "home", "work", "out", "ipython/profile_default/startup"):
            (root / part).mkdir(parents=True, exist_ok=True)
        shutil.copytree(ProjectPaths.default().probe, root / "lib" / PROBE_PACKAGE,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return job

    def write_config(self, *, probe: dict[str, Any], notebook_name: str, limits: Limits) -> None:
        """Write job.json, probe.json and the IPython startup file."""
        # Time to measure the models after the last cell, never more than half of the total.
        total = limits.total_seconds
        finish_seconds = max(min(60, total // 2), min(600, total // 5))
        job = {
            "notebook": f"work/{notebook_name}",
            "executed": "out/executed.ipynb",
            "run": "out/run.json",
            "progress": "out/progress.jsonl",
            "cwd": "work",
            "cell_seconds": limits.cell_seconds,
            "execution_seconds": max(1, limits.total_seconds - finish_seconds),
            "finish_seconds": finish_seconds,
            "output_limit_bytes": limits.output_kb * 1024,
            "finish_code": FINISH_CODE,
        }
        (self.root / "job.json").write_text(json.dumps(job, indent=1), encoding="utf-8")
        probe = {"out_dir": self.seen(self.out), **probe}
        (self.root / "probe.json").write_text(json.dumps(probe, indent=1), encoding="utf-8")
        startup = STARTUP.format(package=PROBE_PACKAGE, config=self.seen(self.root / "probe.json"))
        (self.root / "ipython/profile_default/startup/00-nngrade.py").write_text(startup)

    def environment(self, python_bin: str) -> dict[str, str]:
        """The whole environment of the sandbox: nothing of the host's leaks in."""
        home = self.seen(self.home)
        return {
            "HOME": home,
            "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": self.seen(self.root / "lib"),
            "IPYTHONDIR": self.seen(self.root / "ipython"),
            "JUPYTER_RUNTIME_DIR": f"{home}/.local/share/jupyter/runtime",
            "XDG_CACHE_HOME": f"{home}/.cache",
            "MPLCONFIGDIR": f"{home}/.config/matplotlib",
            "MPLBACKEND": "Agg",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LANG": "C.UTF-8",
        }

    @property
    def agent_args(self) -> list[str]:
        return ["-m", f"{PROBE_PACKAGE}.{self.entry}", self.seen(self.root / "job.json")]
