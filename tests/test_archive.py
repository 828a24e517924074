"""Submissions handed in as archives: unpacked safely, or refused with a reason."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile

import pytest

from runner.archive import MAX_UNPACKED_BYTES, notebook_from
from runner.errors import NotebookError
from tests.notebooks import AUTOGRAD_GOOD, write_notebook


def _zip(path, members: dict[str, bytes], links: dict[str, str] | None = None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            bundle.writestr(info, target)
    return path


def test_zip_with_climbing_names_and_links_yields_only_the_notebook(tmp_path):
    notebook = write_notebook(tmp_path / "hw.ipynb", *AUTOGRAD_GOOD).read_bytes()
    archive = _zip(tmp_path / "s.zip",
                   {"student/hw.ipynb": notebook, "../../evil.txt": b"x", "/etc/evil": b"x",
                    "__MACOSX/student/._hw.ipynb": b"junk"},
                   links={"student/labels": "/usr/share/datasets"})
    found, refused = notebook_from(archive, tmp_path / "unpacked")
    assert found == tmp_path / "unpacked" / "student" / "hw.ipynb"
    assert found.read_bytes() == notebook
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert not (tmp_path / "unpacked" / "student" / "labels").exists()
    assert sorted(refused) == ["../../evil.txt: outside the archive",
                               "/etc/evil: outside the archive", "student/labels: a link"]


def test_tar_with_symlink_hardlink_and_escape_is_filtered(tmp_path):
    notebook = write_notebook(tmp_path / "hw.ipynb", *AUTOGRAD_GOOD).read_bytes()
    archive = tmp_path / "s.tar.gz"
    with tarfile.open(archive, "w:gz") as bundle:
        for name, kind, target, data in [
                ("hw/hw.ipynb", tarfile.REGTYPE, "", notebook),
                ("hw/link", tarfile.SYMTYPE, "/etc/passwd", b""),
                ("hw/hard", tarfile.LNKTYPE, "hw/hw.ipynb", b""),
                ("../up.txt", tarfile.REGTYPE, "", b"up")]:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size = kind, target, len(data)
            bundle.addfile(info, io.BytesIO(data))
    found, refused = notebook_from(archive, tmp_path / "unpacked")
    assert found.name == "hw.ipynb" and len(refused) == 3
    assert not (tmp_path / "up.txt").exists()
    assert sorted(p.name for p in (tmp_path / "unpacked" / "hw").iterdir()) == ["hw.ipynb"]


def test_zip_bomb_is_stopped_by_bytes_actually_unpacked(tmp_path):
    archive = tmp_path / "bomb.zip"
    with (zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle,
          bundle.open("big.ipynb", "w", force_zip64=True) as handle):
        for _ in range(MAX_UNPACKED_BYTES // 2**20 + 2):
            handle.write(b"\0" * 2**20)
    assert archive.stat().st_size < 5 * 2**20
    with pytest.raises(NotebookError, match="unpacks to more than"):
        notebook_from(archive, tmp_path / "unpacked")


def test_archives_without_exactly_one_notebook_or_unreadable_are_refused(tmp_path):
    two = _zip(tmp_path / "two.zip", {"a.ipynb": b"{}", "b/b.ipynb": b"{}"})
    with pytest.raises(NotebookError, match="found 2"):
        notebook_from(two, tmp_path / "u1")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(NotebookError, match="not a readable archive"):
        notebook_from(broken, tmp_path / "u2")
