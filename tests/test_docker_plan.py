"""The Docker backend's requests and its reading of what a container hands back.

No engine needed: these check what nngrade asks of Docker, and how it treats the
untrusted tar stream of ``out/``.
"""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest

from runner.sandbox.backends import RunRequest
from runner.sandbox.docker_backend import MAX_OUT_FILES, Docker, extract_out
from runner.sandbox.docker_shared import volume_name
from runner.spec import Limits


def _plan(tmp_path: Path, gpus: list[str], **limits):
    backend = Docker("nngrade-grader:test")
    request = RunRequest(backend.job_dir(tmp_path / "job"), Limits(**limits), gpus)
    return backend.plan(request)


def test_container_is_locked_down_with_the_spec_limits(tmp_path):
    plan = _plan(tmp_path, [], memory_mb=3000, processes=100, disk_mb=700, cpus=1.5)
    create = plan.create
    assert create["network_mode"] == "none" and create["read_only"] is True
    assert create["cap_drop"] == ["ALL"] and "cap_add" not in create
    assert create["security_opt"] == ["no-new-privileges"]
    assert create["mem_limit"] == create["memswap_limit"] == "3000m"  # no swap
    assert create["nano_cpus"] == 1_500_000_000
    assert create["pids_limit"] > 100
    assert {"Name": "nproc", "Soft": 100, "Hard": 100} in create["ulimits"]
    job_mb = int(re.match(r"size=(\d+)m,", create["tmpfs"]["/job"]).group(1))
    assert 700 < job_mb < 800  # the notebook's 700 MB, plus the read-only part of the job
    assert create["tmpfs"]["/job/out"].endswith(f"uid={plan.student_uid},gid={plan.student_uid},"
                                                "nosuid,nodev")
    assert create["user"] == "1500:1500" and plan.student_uid >= 20000
    assert "device_requests" not in create
    assert create["auto_remove"] and int(create["command"][1]) > 1800  # ends if nngrade dies
    assert plan.agent_environment["CUDA_VISIBLE_DEVICES"] == ""
    assert plan.agent_environment["HOME"] == "/job/home"


def test_a_gpu_run_asks_for_exactly_its_device_by_id(tmp_path):
    plan = _plan(tmp_path, ["3"])
    assert plan.create["device_requests"] == [
        {"Driver": "", "DeviceIDs": ["3"], "Capabilities": [["gpu"]]}]  # as `--gpus device=3`
    # Inside the container the one GPU it sees is device 0.
    assert plan.agent_environment["CUDA_VISIBLE_DEVICES"] == "0"
    assert plan.create["environment"]["NVIDIA_DRIVER_CAPABILITIES"] == "compute,utility"


def test_each_run_gets_its_own_student_uid(tmp_path):
    uids = {_plan(tmp_path / str(i), []).student_uid for i in range(20)}
    assert len(uids) > 10  # per-uid process limits do not pool between containers


def _tar(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _file(name: str, data: bytes = b"{}") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _special(name: str, kind: bytes, target: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def test_out_archive_keeps_plain_files_and_refuses_escapes(tmp_path):
    (tmp_path / "secret").write_text("host file")
    archive = _tar(_file("out/run.json", b'{"cells": []}'),
                   _file("out/sub/pred.npy", b"\x93NUMPY"),
                   _file("out/../escaped.txt"),
                   _file("/etc/evil"),
                   _file("work/notebook.ipynb"),
                   _special("out/link", tarfile.SYMTYPE, "/etc/passwd"),
                   _special("out/hard", tarfile.LNKTYPE, "out/run.json"),
                   _special("out/dev", tarfile.CHRTYPE))
    refused = extract_out(archive, tmp_path)
    assert (tmp_path / "out/run.json").read_text() == '{"cells": []}'
    assert (tmp_path / "out/sub/pred.npy").read_bytes() == b"\x93NUMPY"
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "out/link").exists()
    assert not (tmp_path / "out/hard").exists() and not (tmp_path / "out/dev").exists()
    assert len(refused) == 6
    assert (tmp_path / "secret").read_text() == "host file"


def test_a_symlink_planted_on_the_host_side_is_not_followed(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "target.txt").write_text("keep")
    (tmp_path / "out" / "run.json").symlink_to(tmp_path / "target.txt")
    refused = extract_out(_tar(_file("out/run.json", b"forged")), tmp_path)
    assert (tmp_path / "target.txt").read_text() == "keep"
    assert refused == ["out/run.json"]


def test_truncated_archive_keeps_whole_members(tmp_path):
    archive = _tar(_file("out/a.json", b"A" * 600), _file("out/b.json", b"B" * 5000))
    refused = extract_out(archive[:2048], tmp_path)
    assert (tmp_path / "out/a.json").read_bytes() == b"A" * 600
    assert refused  # b.json arrived cut: not kept as if whole
    assert not (tmp_path / "out/b.json").exists()


@pytest.mark.parametrize("count", [MAX_OUT_FILES + 5])
def test_file_count_is_capped(tmp_path, count):
    archive = _tar(*(_file(f"out/f{i}", b"") for i in range(count)))
    refused = extract_out(archive, tmp_path)
    assert len(list((tmp_path / "out").iterdir())) == MAX_OUT_FILES
    assert "more files than the limit" in refused


def test_an_exec_counts_as_finished_only_once_it_has_an_exit_code():
    from runner.sandbox.docker_backend import _finished

    assert not _finished({"Running": False, "ExitCode": None})  # created, not started yet
    assert not _finished({"Running": True, "ExitCode": None})
    assert _finished({"Running": False, "ExitCode": 0})
    assert _finished({"Running": False, "ExitCode": 137})


def test_shared_public_data_is_a_volume_mounted_read_only_at_its_own_path(tmp_path):
    backend = Docker("nngrade-grader:test")
    job = backend.job_dir(tmp_path / "job")
    folder = tmp_path / "tensorflow_datasets" / "oxford_iiit_pet" / "4.0.0"
    folder.mkdir(parents=True)
    job.share(folder)
    create = backend.plan(RunRequest(job, Limits(disk_mb=700), [])).create
    ((volume, mount),) = create["volumes"].items()
    assert mount == {"bind": str(folder), "mode": "ro"}
    assert volume.startswith("nngrade-shared-oxford_iiit_pet-4.0.0-")
    (folder / "dataset_info.json").write_text("{}")  # other content: another volume
    assert volume_name(folder) != volume
