"""runner.datasets against the real Fashion-MNIST files: no mocks.

The search is made hermetic with a cache dir under tmp (``NNGRADE_CACHE_DIR``)
and spec copies whose system dirs and mirrors point at tmp dirs and a local
HTTP server. Framework loaders run in subprocesses (keras and torch in one
process can crash, and a subprocess sees only the files we wrote).
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from runner.datasets import (
    ChecksumMismatch,
    DatasetNotFound,
    DatasetSpec,
    ImageSplits,
    MalformedDataFile,
    PublicManifest,
    _idx,
    dataset_cache_dir,
    load_official,
    locate,
    public_cache,
    public_split,
    registry,
    split_indices,
    write_keras_cache,
    write_torchvision_raw,
)
from runner.datasets.verify import forget_verified, is_verified

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
SPEC = registry()["fashion_mnist"]
SPLIT = {"heldout_size": SPEC.split.heldout, "seed": SPEC.split.seed}
"""The public split as the dataset file declares it."""
ISOLATED = SPEC.model_copy(update={"system_dirs": [], "base_urls": []})
"""Fashion-MNIST as if no distribution package and no internet existed."""

needs_debian = pytest.mark.skipif(
    not all((DEBIAN / f.gz_name).is_file() for f in SPEC.files.values()),
    reason="needs the real files: apt-get install dataset-fashion-mnist",
)


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private user cache, no user data dir, downloads not disabled, nothing remembered."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("NNGRADE_CACHE_DIR", str(cache))
    for name in ("NNGRADE_DATA_DIR", "NNGRADE_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    forget_verified()
    return cache


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> ImageSplits:
    if not DEBIAN.is_dir():
        pytest.skip("needs the real files: apt-get install dataset-fashion-mnist")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NNGRADE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        return load_official("fashion_mnist", DEBIAN, allow_download=False)


@pytest.fixture(scope="module")
def public(official: ImageSplits) -> ImageSplits:
    return public_split(official, **SPLIT)


def row_hashes(images: np.ndarray) -> list[bytes]:
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in images]


def array_digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.uint8).tobytes()).hexdigest()


def copy_debian(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for file in SPEC.files.values():
        shutil.copy(DEBIAN / file.gz_name, dest / file.gz_name)
    return dest


def corrupt_gz(path: Path) -> None:
    """Same size and format, one byte of content changed."""
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[-1] ^= 1
    path.write_bytes(_idx.gzip_bytes(bytes(data)))


# --- finding and verifying -------------------------------------------------------------


@needs_debian
def test_finds_and_verifies_the_debian_copy(hermetic: Path) -> None:
    assert locate("fashion_mnist", allow_download=False) == DEBIAN
    # The verdict is stamped in the cache, so another process skips the 0.3 s hash.
    forget_verified()
    stamp = json.loads((hermetic / "verified.json").read_text())["verified"]
    assert len(stamp) == 4
    for file in SPEC.files.values():
        assert is_verified(DEBIAN / file.gz_name, file)


@needs_debian
def test_corrupted_copy_in_data_dir_raises_naming_the_file(tmp_path: Path) -> None:
    data = copy_debian(tmp_path / "data")
    corrupt_gz(data / "train-labels-idx1-ubyte.gz")
    with pytest.raises(ChecksumMismatch) as caught:
        locate("fashion_mnist", data, allow_download=False)  # not silently the Debian copy
    err = caught.value
    assert err.path == data / "train-labels-idx1-ubyte.gz"
    assert err.expected == SPEC.files["train_labels"].sha256
    assert err.actual != err.expected and err.actual in str(err)
    assert "train-labels-idx1-ubyte.gz" in str(err)


@needs_debian
def test_truncated_gzip_is_a_checksum_mismatch(tmp_path: Path) -> None:
    data = copy_debian(tmp_path / "data")
    broken = data / "t10k-images-idx3-ubyte.gz"
    broken.write_bytes(broken.read_bytes()[:1000])
    with pytest.raises(ChecksumMismatch, match="unreadable") as caught:
        locate("fashion_mnist", data, allow_download=False)
    assert caught.value.path == broken


@needs_debian
def test_uncompressed_torchvision_layout_is_found_and_byte_exact(
    official: ImageSplits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Re-encoding the official arrays must reproduce the official bytes exactly,
    # or the registry checksums would reject them.
    raw = write_torchvision_raw(official, tmp_path / "root", dataset=SPEC)
    monkeypatch.setenv("NNGRADE_DATA_DIR", str(tmp_path / "root"))
    assert locate(ISOLATED, allow_download=False) == raw


def test_nothing_anywhere_explains_where_it_looked_and_how_to_fix(
    tmp_path: Path, hermetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    spec = SPEC.model_copy(update={"system_dirs": [tmp_path / "no-such-system-dir"]})
    with pytest.raises(DatasetNotFound) as caught:
        locate(spec, empty, allow_download=False)
    text = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    for expected in (
        f"data dir {empty}: no dataset files",
        f"system dir {tmp_path / 'no-such-system-dir'}: does not exist",
        f"user cache {dataset_cache_dir('fashion_mnist')}",
        "download: not allowed by the caller",
        "apt-get install dataset-fashion-mnist",
        "--data-dir",
        "NNGRADE_DATA_DIR",
        "internet",
    ):
        assert expected in text
    assert str(hermetic) in text

    monkeypatch.setenv("NNGRADE_DATA_DIR", str(empty))
    monkeypatch.setenv("NNGRADE_OFFLINE", "1")
    with pytest.raises(DatasetNotFound, match=r"(?s)\$NNGRADE_DATA_DIR .*\$NNGRADE_OFFLINE"):
        locate(ISOLATED)


# --- downloading from a real (local) server ----------------------------------------------


class _Mirror:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        mirror = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                mirror.requests.append(self.path)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(Handler, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def spec(self) -> DatasetSpec:
        """Dataset whose first mirror 404s and second serves the files."""
        return ISOLATED.model_copy(update={"base_urls": [self.url + "missing/", self.url]})


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[_Mirror]:
    if not DEBIAN.is_dir():
        pytest.skip("needs the real files: apt-get install dataset-fashion-mnist")
    served = _Mirror(copy_debian(tmp_path / "mirror"))
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_download_into_cache_then_reuse(mirror: _Mirror) -> None:
    spec = mirror.spec()
    cache = dataset_cache_dir("fashion_mnist")
    assert locate(spec) == cache
    assert sorted(p.name for p in cache.iterdir()) == sorted(f.gz_name for f in SPEC.files.values())
    assert any(r.startswith("/missing/") for r in mirror.requests)  # fell through a 404

    served = len(mirror.requests)
    forget_verified()
    assert locate(spec) == cache
    assert len(mirror.requests) == served  # cached: no network

    # A damaged cache file: an error offline, replaced when downloads are allowed.
    corrupt_gz(cache / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(ChecksumMismatch, match="t10k-labels"):
        locate(spec, allow_download=False)
    assert locate(spec) == cache
    assert mirror.requests[served:] == [
        "/missing/t10k-labels-idx1-ubyte.gz",
        "/t10k-labels-idx1-ubyte.gz",
    ]


def test_download_of_wrong_content_is_rejected(mirror: _Mirror) -> None:
    corrupt_gz(mirror.root / "train-images-idx3-ubyte.gz")
    with pytest.raises(DatasetNotFound, match="wrong content"):
        locate(mirror.spec())
    cache = dataset_cache_dir("fashion_mnist")
    assert not (cache / "train-images-idx3-ubyte.gz").exists()
    assert not list(cache.glob(".*"))  # no partial downloads left behind


def test_offline_env_prevents_download(mirror: _Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNGRADE_OFFLINE", "1")
    with pytest.raises(DatasetNotFound, match="NNGRADE_OFFLINE"):
        locate(mirror.spec())
    assert mirror.requests == []


# --- the public split --------------------------------------------------------------------


def test_public_split_is_deterministic_stratified_and_disjoint(
    official: ImageSplits, public: ImageSplits
) -> None:
    assert (len(public.train_y), len(public.test_y)) == (50_000, 10_000)
    assert public.train_x.shape[1:] == public.test_x.shape[1:] == (28, 28)
    assert np.bincount(public.test_y).tolist() == [1000] * 10
    again = public_split(official, **SPLIT)
    for field in ("train_x", "train_y", "test_x", "test_y"):
        assert np.array_equal(getattr(public, field), getattr(again, field))
    # Pinned: the public split must not drift across machines or library versions.
    _, heldout = split_indices(official.train_y, 10_000, SPEC.split.seed)
    assert hashlib.sha256(heldout.astype("<i8").tobytes()).hexdigest().startswith("3fe832929a7b")

    train_rows, heldout_rows = row_hashes(public.train_x), row_hashes(public.test_x)
    official_rows = row_hashes(official.train_x)
    assert not set(train_rows) & set(heldout_rows)
    assert sorted(train_rows + heldout_rows) == sorted(official_rows)
    assert not set(heldout_rows) & set(row_hashes(official.test_x))  # hidden set stays hidden
    by_row = dict(zip(official_rows, official.train_y.tolist(), strict=True))
    assert [by_row[r] for r in heldout_rows] == public.test_y.tolist()  # labels follow images


@pytest.mark.slow
@needs_debian
def test_public_cache_builds_once_concurrently(hermetic: Path, public: ImageSplits) -> None:
    with ThreadPoolExecutor(3) as pool:
        folders = list(pool.map(lambda _: public_cache("fashion_mnist"), range(3)))
    assert len(set(folders)) == 1
    folder = folders[0]
    assert [p.name for p in (hermetic / "public").iterdir()] == [folder.name]  # no tmp debris
    manifest = PublicManifest.model_validate_json((folder / "manifest.json").read_text())
    assert (manifest.train_size, manifest.heldout_size) == (50_000, 10_000)
    loaded = _idx.read_idx(folder / manifest.layouts["torchvision"] / "t10k-images-idx3-ubyte")
    assert np.array_equal(loaded, public.test_x)
    # Built once: found again by key, without the data being available at all.
    assert public_cache(ISOLATED, allow_download=False) == folder


# --- framework loaders read what we write ------------------------------------------------


def run_python(code: str, **env: str) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items() if k != "KERAS_HOME"}
    environ.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", **env)
    done = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


DIGEST = "import hashlib, json, numpy as np\n" + (
    "d = lambda a: hashlib.sha256(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).hexdigest()\n"
)


@pytest.mark.slow
def test_keras_load_data_reads_the_public_split(public: ImageSplits, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_keras_cache(public, home, dataset=SPEC)
    code = DIGEST + (
        "import keras\n"
        "(a, b), (c, e) = keras.datasets.fashion_mnist.load_data()\n"
        "print(json.dumps({'shapes': [a.shape, c.shape], 'd': [d(a), d(b), d(c), d(e)]}))\n"
    )
    got = run_python(code, HOME=str(home))
    assert got["shapes"] == [[50_000, 28, 28], [10_000, 28, 28]]
    expected = [public.train_x, public.train_y, public.test_x, public.test_y]
    assert got["d"] == [array_digest(a) for a in expected]


@pytest.mark.slow
def test_torchvision_reads_the_public_split(public: ImageSplits, tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_torchvision_raw(public, root, dataset=SPEC)
    code = DIGEST + (
        "from torchvision.datasets import FashionMNIST\n"
        f"test = FashionMNIST({str(root)!r}, train=False, download=False)\n"
        f"train = FashionMNIST({str(root)!r}, train=True, download=True)\n"  # a no-op: present
        "print(json.dumps({'n': [len(train), len(test)], 'd': [d(test.data.numpy()), "
        "d(test.targets.numpy()), d(train.data.numpy())]}))\n"
    )
    got = run_python(code)
    assert got["n"] == [50_000, 10_000]
    assert got["d"] == [array_digest(a) for a in (public.test_x, public.test_y, public.train_x)]


# --- IDX ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        np.array([-3, 7], dtype=np.int16),
        np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3),
    ],
)
def test_idx_round_trip_and_reproducible_gzip(array: np.ndarray, tmp_path: Path) -> None:
    first, second = tmp_path / "a.gz", tmp_path / "b.gz"
    _idx.write_idx(array, first, compress=True)
    _idx.write_idx(array, second, compress=True)
    assert first.read_bytes() == second.read_bytes()
    loaded = _idx.read_idx(first)
    assert loaded.dtype == array.dtype and np.array_equal(loaded, array)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + bytes(8), "bad magic"),
        (b"\x00\x00\x07\x01" + bytes(8), "unknown IDX data type"),
        (b"\x00\x00\x08\x09" + bytes(8), "dimensions"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x02", "header truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05" + bytes(4), "truncated or trailing"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05" + bytes(6), "truncated or trailing"),
    ],
)
def test_malformed_idx_is_rejected_naming_file_and_problem(
    data: bytes, problem: str, tmp_path: Path
) -> None:
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(MalformedDataFile, match=problem) as caught:
        _idx.read_idx(path)
    assert str(path) in str(caught.value)


def test_broken_gzip_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(_idx.gzip_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x01\x07")[:-6])
    with pytest.raises(MalformedDataFile, match="cannot decompress"):
        _idx.read_idx(path)
