"""Find a verified copy of a dataset: user dir, system package, user cache, download.

The first place holding all files wins. A complete copy whose content is wrong
is an error rather than a reason to look further: silently grading against
other data than the user pointed at would hide the problem. The one exception
is the user cache, which we own: with downloads allowed, a bad cached file is
replaced.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from runner.datasets._batches import read_members
from runner.datasets.cache import CACHE_ENV, dataset_cache_dir
from runner.datasets.download import download_archive, download_missing
from runner.datasets.errors import ChecksumMismatch, DatasetNotFound
from runner.datasets.registry import DatasetSpec, FileSpec, get_spec
from runner.datasets.verify import verify_archive, verify_file
from runner.i18n.message import Message, msg

DATA_DIR_ENV = "NNGRADE_DATA_DIR"
OFFLINE_ENV = "NNGRADE_OFFLINE"


def find_file(directory: Path, file: FileSpec) -> Path | None:
    """``<name>.gz`` or plain ``<name>`` in ``directory``; content decides if it is gzipped."""
    for candidate in (directory / file.gz_name, directory / file.name):
        if candidate.is_file():
            return candidate
    return None


def dataset_files(directory: Path, dataset: str | DatasetSpec) -> dict[str, Path]:
    """Role -> path of each file present in ``directory`` (possibly incomplete)."""
    spec = get_spec(dataset)
    found = {role: find_file(directory, file) for role, file in spec.files.items()}
    return {role: path for role, path in found.items() if path is not None}


def _user_dirs(spec: DatasetSpec, data_dir: Path | None) -> tuple[str | Message, list[Path]]:
    if data_dir is None:
        env = os.environ.get(DATA_DIR_ENV)
        if not env:
            return "", []
        return f"${DATA_DIR_ENV}", _with_layouts(spec, Path(env))
    return msg("error.dataset.place.data_dir"), _with_layouts(spec, Path(data_dir))


def _with_layouts(spec: DatasetSpec, data_dir: Path) -> list[Path]:
    root = data_dir.expanduser()
    return [root, *(root / sub for sub in spec.search_subdirs())]


def _cache_dir(spec: DatasetSpec) -> Path:
    """The user cache of ``spec``; an archive's is named by its digest too, so a stand-in
    written in the same format never lands among the real files."""
    if spec.archive is None:
        return dataset_cache_dir(spec.name)
    return dataset_cache_dir(f"{spec.name}-{spec.archive.sha256[:12]}")


def _archive_in(directory: Path, spec: DatasetSpec) -> Path | None:
    if spec.archive is None or not (directory / spec.archive.name).is_file():
        return None
    return directory / spec.archive.name


def _unpack(spec: DatasetSpec, archive: Path, dest: Path) -> Path:
    """Verify ``archive``, write its dataset files into ``dest`` and verify them; ``dest``."""
    assert spec.archive is not None
    verify_archive(archive, spec.archive)
    members = read_members(archive, spec.archive.folder, [f.name for f in spec.files.values()])
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in members.items():
        # a part file of its own: verify's threads may unpack the same archive at once
        with tempfile.NamedTemporaryFile(dir=dest, prefix=f".{name}.", suffix=".part",
                                         delete=False) as part:
            part.write(data)
        os.replace(part.name, dest / name)
    _verify_all(spec, dataset_files(dest, spec))
    return dest


def _describe(directory: Path, spec: DatasetSpec, found: dict[str, Path]) -> Message:
    if not directory.exists():
        return msg("error.dataset.place.absent")
    if not found:
        return (msg("error.dataset.place.empty_archive", archive=spec.archive.name)
                if spec.archive else msg("error.dataset.place.empty"))
    missing = [spec.files[role].name for role in spec.files if role not in found]
    return msg("error.dataset.place.incomplete", missing=missing)


def _verify_all(spec: DatasetSpec, found: dict[str, Path]) -> None:
    for role, path in found.items():
        verify_file(path, spec.files[role])


def _not_found(spec: DatasetSpec, looked: list[Message], cache: Path) -> DatasetNotFound:
    fixes = []
    if pkg := spec.system_package:
        fixes.append(msg("error.dataset.fix.package", package=pkg))
    holding = (msg("error.dataset.holding.archive", archive=spec.archive.name,
                   folder=spec.archive.folder) if spec.archive else
               msg("error.dataset.holding.files", files=[f.name for f in spec.files.values()]))
    fixes += [
        msg("error.dataset.fix.data_dir", holding=holding),
        msg("error.dataset.fix.download", cache=str(cache), variable=f"${CACHE_ENV}"),
    ]
    return DatasetNotFound(
        msg("error.dataset.not_found.looked", name=spec.name, title=spec.title, places=looked),
        summary=msg("error.dataset.not_found", name=spec.name, title=spec.title),
        hint=msg("error.dataset.not_found.hint", fixes=fixes),
    )


def _why_no_download(spec: DatasetSpec, allow_download: bool) -> Message | None:
    """None if a download may be tried, else the reason it may not."""
    if not allow_download:
        return msg("error.dataset.no_download.caller")
    if os.environ.get(OFFLINE_ENV):
        return msg("error.dataset.no_download.offline", variable=f"${OFFLINE_ENV}")
    if not spec.base_urls:
        return msg("error.dataset.no_download.no_url")
    return None


def _cached_files(spec: DatasetSpec, cache: Path, *, heal: bool) -> dict[str, Path]:
    """Verified files in the cache; with ``heal``, bad ones are deleted to be re-downloaded."""
    found = dataset_files(cache, spec)
    for role, path in list(found.items()):
        try:
            verify_file(path, spec.files[role])
        except ChecksumMismatch:
            if not heal:
                raise
            path.unlink(missing_ok=True)
            del found[role]
    return found


def locate(
    dataset: str | DatasetSpec,
    data_dir: Path | None = None,
    *,
    allow_download: bool = True,
) -> Path:
    """Return a directory holding all of the dataset's files, verified by checksum.

    Search order: ``data_dir`` (else ``$NNGRADE_DATA_DIR``) and its common layout
    sub-folders (``<name>``, keras' ``datasets/<x>``, torchvision's ``<X>/raw``, an
    archive's folder); where a dataset comes as one archive, a folder holding the
    archive counts too (it is verified and its files copied into the user cache);
    the spec's system dirs; the user cache; then, if ``allow_download`` and
    ``$NNGRADE_OFFLINE`` is unset, a download into the cache. Use
    :func:`dataset_files` on the result to get the individual paths.

    Raises :class:`DatasetNotFound` (listing every place looked and how to fix it)
    or :class:`ChecksumMismatch` (a complete copy with wrong content).
    """
    spec = get_spec(dataset)
    looked: list[Message] = []
    origin, user_dirs = _user_dirs(spec, data_dir)
    # (label, directory, report even when absent): only the user's own root and the
    # system dirs are worth listing when missing; layout sub-folders only if they exist.
    candidates = [(msg("error.dataset.place.user", origin=origin, dir=str(d)), d, i == 0)
                  for i, d in enumerate(user_dirs)]
    candidates += [(msg("error.dataset.place.system", dir=str(d)), d, True)
                   for d in spec.system_dirs]
    cache = _cache_dir(spec)
    for label, directory, always in candidates:
        found = dataset_files(directory, spec)
        if len(found) == len(spec.files):
            _verify_all(spec, found)
            return directory
        if archive := _archive_in(directory, spec):
            return _unpack(spec, archive, cache)
        if always or directory.exists():
            looked.append(msg("error.dataset.place", place=label,
                              state=_describe(directory, spec, found)))

    no_download = _why_no_download(spec, allow_download)
    found = _cached_files(spec, cache, heal=no_download is None)
    if len(found) == len(spec.files):
        return cache
    if archive := _archive_in(cache, spec):
        return _unpack(spec, archive, cache)
    looked.append(msg("error.dataset.place", place=msg("error.dataset.place.cache",
                                                       dir=str(cache)),
                      state=_describe(cache, spec, found)))

    if no_download is not None:
        looked.append(msg("error.dataset.place.download", reason=no_download))
        raise _not_found(spec, looked, cache)
    try:
        if spec.archive is not None:
            return _unpack(spec, download_archive(spec, cache), cache)
        download_missing(spec, cache, set(found))
    except OSError as e:  # DownloadFailed or the cache is not writable
        looked.append(msg("error.dataset.place.download_from", urls=list(spec.base_urls),
                          error=getattr(e, "detail", None) or str(e)))
        raise _not_found(spec, looked, cache) from e
    _verify_all(spec, dataset_files(cache, spec))
    return cache
