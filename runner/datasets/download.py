"""Fetch a dataset's files from its mirrors into the user cache.

A file is written under a temporary name, verified, then renamed into place,
so the cache never holds a partial or unverified file under its real name and
concurrent downloaders cannot corrupt each other.
"""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from runner.datasets.errors import ChecksumMismatch, DatasetError
from runner.datasets.registry import DatasetSpec, FileSpec
from runner.datasets.verify import verify_archive, verify_file
from runner.errors import english
from runner.i18n.message import Message, msg

TIMEOUT_S = 30.0
MAX_FILE_BYTES = 512 * 1024 * 1024
USER_AGENT = "nngrade-datasets/1"


class DownloadFailed(DatasetError, OSError):
    """No mirror delivered an intact copy; ``attempts`` lists each URL and why."""

    def __init__(self, file: str, attempts: list[Message]) -> None:
        self.attempts = [english(attempt) for attempt in attempts]
        super().__init__(msg("error.download.failed", file=file, attempts=attempts))


class _TooLarge(OSError):
    """A download over MAX_FILE_BYTES, stopped."""


def _fetch(url: str, dest: Path, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        copied = 0
        while chunk := response.read(1 << 20):
            copied += len(chunk)
            if copied > MAX_FILE_BYTES:
                raise _TooLarge(f"larger than {MAX_FILE_BYTES} bytes")
            out.write(chunk)


def download_file(spec: DatasetSpec, file: FileSpec, dest_dir: Path, *, timeout: float) -> Path:
    """Try each base URL for ``file``; return the verified ``dest_dir/<name>.gz``."""
    return _download(spec, file.gz_name, lambda path: verify_file(path, file), dest_dir,
                     timeout=timeout)


def download_archive(spec: DatasetSpec, dest_dir: Path, *, timeout: float = TIMEOUT_S) -> Path:
    """Fetch the dataset's archive; return the verified ``dest_dir/<archive name>``."""
    archive = spec.archive
    assert archive is not None
    return _download(spec, archive.name, lambda path: verify_archive(path, archive), dest_dir,
                     timeout=timeout)


def _download(spec: DatasetSpec, name: str, verify: Callable[[Path], None], dest_dir: Path,
              *, timeout: float) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / name
    attempts: list[str] = []
    for base in spec.base_urls:
        url = base + name
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest_dir)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            _fetch(url, tmp, timeout)
            verify(tmp)
            os.replace(tmp, target)
            return target
        except ChecksumMismatch as e:
            attempts.append(msg("error.download.wrong_content", url=url, actual=e.actual))
        except _TooLarge:
            attempts.append(msg("error.download.too_large", url=url,
                                limit=msg("error.unit.byte", n=MAX_FILE_BYTES)))
        except (urllib.error.URLError, OSError, ValueError) as e:
            attempts.append(msg("error.download.attempt", url=url,
                                error=str(getattr(e, "reason", None) or e)))
        finally:
            tmp.unlink(missing_ok=True)
    raise DownloadFailed(name, attempts or [msg("error.download.no_urls")])


def download_missing(
    spec: DatasetSpec, dest_dir: Path, present: set[str], *, timeout: float = TIMEOUT_S
) -> None:
    """Download every file whose role is not in ``present``; stop at the first failure."""
    for role, file in spec.files.items():
        if role not in present:
            download_file(spec, file, dest_dir, timeout=timeout)
