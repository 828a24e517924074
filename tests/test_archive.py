"""Submissions handed in as archives: unpacked safely, or refused with a reason."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile

import pytest

from runner.archive import MAX_UNPACKED_BYTES, notebook_from, unpack
from runner.errors import NotebookError
from tests.hostile_archives import (
    DEFLATE64,
    ENCRYPTED_FLAG,
    PASSWORD,
    STORED,
    UTF8_FLAG,
    Member,
    build_tar,
    build_zip,
)
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


@pytest.mark.slow
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


def _good(tmp_path) -> bytes:
    return write_notebook(tmp_path / "_good.ipynb", *AUTOGRAD_GOOD).read_bytes()


def test_password_protected_zip_is_refused_in_plain_words(tmp_path):
    good = _good(tmp_path)
    archive = tmp_path / "hw.zip"
    archive.write_bytes(build_zip([Member(b"hw/hw.ipynb", good, flags=ENCRYPTED_FLAG)]))
    with zipfile.ZipFile(archive) as bundle:  # a real encrypted zip: the password opens it
        assert bundle.open("hw/hw.ipynb", pwd=PASSWORD).read() == good
    with pytest.raises(NotebookError) as caught:
        notebook_from(archive, tmp_path / "unpacked")
    assert caught.value.message == "hw.zip: the archive is password-protected (hw/hw.ipynb)"
    assert "without a password" in caught.value.hint
    assert not list((tmp_path / "unpacked").rglob("*"))  # nothing half-written


def test_deflate64_zip_is_refused_with_what_to_do(tmp_path):
    archive = tmp_path / "hw.zip"
    archive.write_bytes(build_zip([Member("Домашка.ipynb".encode(), _good(tmp_path),
                                          method=DEFLATE64, flags=UTF8_FLAG)]))
    with pytest.raises(NotebookError) as caught:
        notebook_from(archive, tmp_path / "unpacked")
    assert caught.value.message == (
        "hw.zip: uses a compression method Python cannot read (deflate64, for Домашка.ipynb): "
        "re-pack it as an ordinary .zip")


def test_damaged_archives_say_so(tmp_path):
    good = _good(tmp_path)
    bad_block = tmp_path / "block.zip"  # block type 3 does not exist in deflate
    bad_block.write_bytes(build_zip([Member(b"hw.ipynb", good, payload=b"\xff" * 64)]))
    bad_crc = tmp_path / "crc.zip"
    bad_crc.write_bytes(build_zip([Member(b"hw.ipynb", good, method=STORED,
                                          payload=good[:-1] + b"!")]))
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(build_tar({b"hw.ipynb": good}, "gz")[:-40])
    for archive in (bad_block, bad_crc):
        with pytest.raises(NotebookError, match=rf"^{archive.stem}\.zip: the archive is "
                                                r"damaged: hw\.ipynb cannot be read"):
            notebook_from(archive, tmp_path / archive.stem)
    with pytest.raises(NotebookError, match=r"^cut\.tar\.gz: (not a readable archive|the "
                                            r"archive is damaged)"):
        notebook_from(truncated, tmp_path / "cut")


def test_zip_names_without_the_utf8_flag_read_as_their_packer_meant(tmp_path):
    """Windows' own zip writes cp866 names on Russian Windows; macOS writes UTF-8 unflagged."""
    good = _good(tmp_path)
    archive = tmp_path / "hw.zip"
    archive.write_bytes(build_zip([
        Member("Домашка/Решение.ipynb".encode("cp866"), good),
        Member("Домашка/Данные для проверки.txt".encode(), b"utf-8, no flag"),
        Member("ß.txt".encode("cp437"), b"cp437, as in Western Europe")]))
    found, refused = notebook_from(archive, tmp_path / "unpacked")
    assert refused == []
    assert found == tmp_path / "unpacked" / "Домашка" / "Решение.ipynb"
    assert found.read_bytes() == good
    assert sorted(p.name for p in found.parent.iterdir()) == ["Данные для проверки.txt",
                                                             "Решение.ipynb"]
    assert (tmp_path / "unpacked" / "с.txt").is_file()  # cp437's ß is byte 0xE1, cp866's с


def test_over_long_member_names_are_shortened_not_refused(tmp_path):
    good = _good(tmp_path)
    long_stem = "Домашнее задание по нейронным сетям " * 4  # 130 letters, 260 bytes
    archive = tmp_path / "hw.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"{long_stem}/{long_stem}.ipynb", good)
        bundle.writestr(f"{long_stem}/{long_stem} (1).txt", b"one")
        bundle.writestr(f"{long_stem}/{long_stem} (2).txt", b"two")
    found, refused = notebook_from(archive, tmp_path / "unpacked")
    assert refused == [] and found.read_bytes() == good
    assert found.name.endswith(".ipynb") and found.name.startswith("Домашнее задание")
    texts = sorted(found.parent.glob("*.txt"))
    assert [p.read_bytes() for p in texts] in ([b"one", b"two"], [b"two", b"one"])
    assert all(len(part.encode()) <= 255 for p in [found, *texts]
               for part in p.relative_to(tmp_path).parts)


def test_undecodable_and_control_bytes_in_names_become_visible_escapes(tmp_path):
    good = _good(tmp_path)
    archive = tmp_path / "hw.tar"
    archive.write_bytes(build_tar({b"\xe9l\xe8ve/\xff\xfe.ipynb": good,
                                   b"\xe9l\xe8ve/notes\x1b[2J.txt": b"x"}))
    found, refused = notebook_from(archive, tmp_path / "unpacked")
    assert refused == []
    assert found.relative_to(tmp_path / "unpacked").parts == ("\\xe9l\\xe8ve",
                                                              "\\xff\\xfe.ipynb")
    assert str(found).encode("utf-8") and found.read_bytes() == good
    assert (found.parent / "notes\\x1b[2J.txt").is_file()


def test_a_member_that_cannot_be_written_is_left_out_with_a_note(tmp_path):
    good = _good(tmp_path)
    archive = tmp_path / "hw.zip"
    deep = "/".join(["d"] * 100)
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("hw", b"a file where a folder should be")
        bundle.writestr("hw/hw.ipynb", good)
        bundle.writestr(f"{deep}/deep.ipynb", good)
    refused = unpack(archive, tmp_path / "unpacked")
    assert refused == ["hw/hw.ipynb: cannot be unpacked here (another member of that name is "
                       "in the way)",
                       f"{deep}/deep.ipynb: more than 64 folders deep"]
    with pytest.raises(NotebookError, match=r"found 0 \(none; left out: hw/hw.ipynb: cannot"):
        notebook_from(archive, tmp_path / "again")
