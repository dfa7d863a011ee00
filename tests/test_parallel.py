"""scratch.parallel: batch threads give the same bits as one thread, and fail loudly."""

import numpy as np
import pytest

from scratch import layers as L
from scratch import parallel


@pytest.fixture
def restore_threads():
    before = parallel.threads()
    yield
    parallel.set_threads(before)


def _conv_run(dtype, cfg, n):
    rng = np.random.default_rng(1)
    conv = L.Conv2D(**cfg, rng=rng, dtype=dtype)
    x = rng.random((n, cfg["in_channels"], 28, 28)).astype(dtype)
    y = conv.forward(x, training=True)
    dy = rng.standard_normal(y.shape).astype(dtype)
    out = [y, conv.backward(dy), conv.grads["W"], conv.grads["b"]]
    out.append(conv.forward(x, training=False))
    out.append(conv.backward(dy))  # after an evaluation forward: col rebuilt
    return out


def _pool_run(dtype, cls, cfg, n):
    rng = np.random.default_rng(2)
    pool = cls(**cfg, dtype=dtype)
    x = np.round(rng.standard_normal((n, 6, 24, 24)) * 2).astype(dtype)  # many ties
    y = pool.forward(x, training=True)
    dy = rng.standard_normal(y.shape).astype(dtype)
    out = [y, pool.backward(dy)]
    out.append(pool.forward(x, training=False))
    out.append(pool.backward(dy))  # after an evaluation forward: the brackets replayed
    return out


def _relu_run(dtype, n):
    rng = np.random.default_rng(3)
    relu = L.ReLU(dtype=dtype)
    x = np.round(rng.standard_normal((n, 5, 9, 9)) * 2).astype(dtype)  # exact zeros too
    y = relu.forward(x, training=True)
    return [y, relu.backward(rng.standard_normal(y.shape).astype(dtype))]


CONVS = [dict(in_channels=1, filters=30, kernel_size=5), dict(in_channels=3, filters=8, kernel_size=3, padding=1,
                                                              stride=2, truncate=True),
         dict(in_channels=4, filters=6, kernel_size=3, dilation=2, padding="same")]
POOLS = [(L.MaxPool2D, dict(pool_size=2)), (L.MaxPool2D, dict(pool_size=3, stride=2, padding=1, truncate=True)),
         (L.MaxPool2D, dict(pool_size=2, stride=1)), (L.AvgPool2D, dict(pool_size=2)),
         (L.AvgPool2D, dict(pool_size=3, stride=2, padding="same"))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_threads_give_the_same_bits(dtype, restore_threads, monkeypatch):
    """Every output and gradient of Conv2D, MaxPool2D / AvgPool2D (ties, overlap, padding) and ReLU is
    bit-identical for 1, 2 and 3 threads (with slices small enough that every batch is split)."""
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    runs = {}
    for threads in (1, 2, 3):
        parallel.set_threads(threads)
        runs[threads] = [_conv_run(dtype, cfg, 7) for cfg in CONVS] + [
            _pool_run(dtype, cls, cfg, 7) for cls, cfg in POOLS] + [_relu_run(dtype, 7)]
    assert parallel.slices(7, 10**6) == [slice(0, 2), slice(2, 4), slice(4, 7)]
    for threads in (2, 3):
        for one, many in zip(runs[1], runs[threads], strict=True):
            for a, b in zip(one, many, strict=True):
                assert a.dtype == b.dtype and np.array_equal(a, b)


def test_slices_partition_the_batch(restore_threads):
    parallel.set_threads(4)
    assert parallel.slices(10, 10 * parallel.MIN_ELEMENTS) == [slice(0, 2), slice(2, 5), slice(5, 7), slice(7, 10)]
    assert parallel.slices(10, parallel.MIN_ELEMENTS) == [slice(0, 10)]  # too little work to split
    assert parallel.slices(0, 10**9) == [slice(0, 0)]
    assert parallel.slices(3, 10**9) == [slice(0, 1), slice(1, 2), slice(2, 3)]


def test_an_error_in_a_thread_reaches_the_caller(restore_threads):
    parallel.set_threads(2)

    def work(s):
        if s.start:
            raise ArithmeticError(f"slice {s}")

    with pytest.raises(ArithmeticError, match="slice"):
        parallel.for_batch(4, 10**9, work)


def test_thread_counts_are_checked(monkeypatch, restore_threads):
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n: expected a positive integer"):
            parallel.set_threads(bad)
    monkeypatch.setenv("DLPARITY_THREADS", "two")
    with pytest.raises(ValueError, match="DLPARITY_THREADS: expected a positive integer"):
        parallel._default_threads()
    monkeypatch.setenv("DLPARITY_THREADS", "3")
    assert parallel._default_threads() == 3
