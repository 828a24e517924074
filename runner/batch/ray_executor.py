"""Run a batch's submissions as Ray tasks: a class spread over many GPU hosts.

Each task grades one submission on whichever node Ray picks, with that node's
sandbox, data and GPUs (``num_gpus=1`` when the assignment wants a GPU). The
notebook travels with the task and the report files come back as its result, so
the nodes share no file system with the driver; only the driver writes the report
folders and the gradebook. Every node needs nngrade installed (same version), the
data sets, and its sandbox (the grading image, or bubblewrap).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from runner.assignments import Assignment
from runner.batch.run import Outcome, Task, problem_text
from runner.errors import SandboxUnavailable
from runner.i18n.render import Translator
from runner.paths import ProjectPaths
from runner.report.model import Report
from runner.scoring_record import RECORD_FILE
from runner.spec import GpuPolicy

REPORT_FILES = ("report.json", "report.md", "report.html", "executed.ipynb", RECORD_FILE)


def grade_remote(assignment_id: str, home: str, notebook_name: str, notebook: bytes,
                 backend_name: str, image: str | None, data_dir: str | None,
                 use_gpu: bool, language: str = "en") -> dict:
    """The task body, run in a Ray worker: grade one notebook, return the report files."""
    import ray

    from runner import assignments
    from runner.grading import grade
    from runner.report.model import Mode
    from runner.sandbox.select import choose_backend

    try:
        assignment = assignments.load(assignment_id, ProjectPaths(Path(home)))
        backend = choose_backend(backend_name, allow_unsandboxed=False, image=image)
        gpus = [str(gpu) for gpu in ray.get_gpu_ids()] if use_gpu else []
        with tempfile.TemporaryDirectory(prefix="nngrade-ray-") as tmp:
            path = Path(tmp) / notebook_name
            path.write_bytes(notebook)
            out = Path(tmp) / "out"
            grade(assignment, path, out, mode=Mode.grade, backend=backend,
                  data_dir=Path(data_dir) if data_dir else None, gpus=gpus, language=language)
            return {"files": {name: (out / name).read_bytes() for name in REPORT_FILES
                              if (out / name).is_file()}}
    except SandboxUnavailable as error:
        return {"fatal": f"{error.message} ({error.hint})" if error.hint else error.message}
    except Exception as error:  # one submission, whatever it did
        return {"problem": problem_text(error, language)}


class RayExecutor:
    """Ray tasks on the cluster at ``address``, or on a local Ray started here."""

    def __init__(self, backend_name: str, *, image: str | None = None,
                 address: str | None = None, jobs: int | None = None,
                 data_dir: Path | None = None) -> None:
        self.backend_name, self.image, self.address = backend_name, image, address
        self.jobs, self.data_dir = jobs, data_dir

    def run(self, assignment: Assignment, tasks: list[Task],
            on_start: Callable[[Task], None]) -> Iterator[tuple[Task, Outcome]]:
        import ray

        if not tasks:
            return
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        use_gpu = self._use_gpu(assignment.spec.gpu, ray.cluster_resources().get("GPU", 0))
        remote = ray.remote(num_gpus=1 if use_gpu else 0, num_cpus=1, max_retries=0)(
            grade_remote)
        waiting = list(tasks)
        running: dict = {}
        limit = self.jobs or len(tasks)
        home = str(ProjectPaths.default().root)
        while waiting or running:
            while waiting and len(running) < limit:
                task = waiting.pop(0)
                notebook = task.entry.notebook
                on_start(task)
                try:
                    data = notebook.read_bytes()
                except OSError as error:
                    yield task, problem_text(error, task.language)
                    continue
                running[remote.remote(assignment.spec.id, home, notebook.name, data,
                                      self.backend_name, self.image,
                                      str(self.data_dir) if self.data_dir else None,
                                      use_gpu, task.language)] = task
            if not running:
                continue
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                task = running.pop(ref)
                try:
                    payload = ray.get(ref)
                except ray.exceptions.RayError as error:  # the worker died with this task
                    yield task, Translator(task.language)("batch.problem.ray_failed",
                                                          error=_first_line(error))
                    continue
                yield task, _outcome(task, payload)

    @staticmethod
    def _use_gpu(policy: GpuPolicy, cluster_gpus: float) -> bool:
        if policy is GpuPolicy.required and not cluster_gpus:
            raise SandboxUnavailable("this assignment needs a GPU and the Ray cluster has none",
                                     hint="Add GPU nodes to the cluster, or grade elsewhere.")
        return policy is not GpuPolicy.never and cluster_gpus > 0


def _outcome(task: Task, payload: dict) -> Outcome:
    if "fatal" in payload:
        raise SandboxUnavailable(f"a Ray worker cannot grade: {payload['fatal']}",
                                 hint="Every node needs nngrade, the data and a sandbox.")
    if "problem" in payload:
        return payload["problem"]
    try:
        task.folder.mkdir(parents=True, exist_ok=True)
        for name, data in payload["files"].items():
            if name in REPORT_FILES:
                (task.folder / name).write_bytes(data)
        return Report.model_validate_json(payload["files"]["report.json"])
    except Exception as error:  # one submission, whatever came back for it
        return problem_text(error, task.language)


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return (lines[-1] if lines else type(error).__name__)[:300]
