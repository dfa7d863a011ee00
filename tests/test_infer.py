"""Sequential.infer: the evaluation forward without the backward guard."""

import numpy as np
import pytest

from comparisons.studies import models
from scratch._checks import NonFiniteError


@pytest.mark.parametrize("name", ["mlp4x128_bn_dropout", "simple_convnet"])
def test_infer_equals_the_evaluation_forward(name):
    model = models.build(name, seed=3, dtype="float32")
    x = np.random.default_rng(0).random((7, *models.get(name).input_shape)).astype("float32")
    expected = model.forward(x, training=False)
    assert np.array_equal(model.infer(x), expected)
    assert np.array_equal(model.predict(x), expected)  # one batch: a smaller one may round differently in BLAS


def test_backward_after_infer_raises_as_after_no_forward():
    model = models.build("twolayer", dtype="float64")
    x = np.random.default_rng(0).random((4, 784))
    model.forward(x, training=True)
    model.infer(x)
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(np.ones((4, 10)))


def test_infer_checks_its_input():
    model = models.build("twolayer", dtype="float64")
    x = np.random.default_rng(0).random((4, 784))
    x[1, 5] = np.nan
    with pytest.raises(NonFiniteError, match="x: expected finite values"):
        model.infer(x)
    with pytest.raises(ValueError, match="dtype float64"):
        model.infer(x.astype("float32"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1000, 784), (300, 1000), (2, 3, 44_000)])  # 784k, 300k, 264k: the fast path
def test_all_finite_finds_every_non_finite_value(dtype, shape):
    from scratch._checks import FAST_FINITE_MIN, all_finite

    rng = np.random.default_rng(0)
    x = (rng.uniform(-1, 1, shape) * np.finfo(dtype).max).astype(dtype)  # huge finite values: x * 0 is still 0
    assert x.size >= FAST_FINITE_MIN and all_finite(x)
    size = x.size
    for pos in [0, 1023, 1024, size - size % 1024 - 1, size - size % 1024, size - 1, *rng.integers(0, size, 20)]:
        for bad in (np.inf, -np.inf, np.nan):
            y = x.copy()
            y.reshape(-1)[pos] = bad
            assert not all_finite(y), (pos, bad)
    assert not all_finite(np.asfortranarray(np.where(x > 0, np.inf, x)))  # not C-contiguous: np.isfinite


def test_evaluation_layers_compute_the_plain_formulas():
    """Sigmoid's overflow-free form, BatchNorm's and Dropout's evaluation forwards, computed in
    place, equal the formulas written out with fresh temporaries, bit for bit."""
    from scratch import layers as L

    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        x = (rng.standard_normal((400, 64)) * rng.choice([0.1, 3.0, 100.0], size=(400, 64))).astype(dtype)
        x[0, :4] = [0.0, -0.0, np.finfo(dtype).max, -np.finfo(dtype).max]
        with np.errstate(over="ignore"):
            z = np.exp(-np.abs(x))
            expected = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
        assert np.array_equal(L.Sigmoid(dtype=dtype.__name__).forward(x, training=False), expected)

        x = x[1:]  # finite results: no extremes for the affine layers
        bn = L.BatchNorm(64, momentum=0.9, momentum_of="running", eps=1e-3, running_var="biased", stats="channel",
                         dtype=dtype.__name__)
        bn.buffers["running_mean"] = rng.standard_normal(64).astype(dtype)
        bn.buffers["running_var"] = rng.random(64).astype(dtype) + dtype(0.5)
        bn.params["gamma"][:] = rng.standard_normal(64)
        bn.params["beta"][:] = rng.standard_normal(64)
        x_hat = (x - bn.buffers["running_mean"]) * (1 / np.sqrt(bn.buffers["running_var"] + dtype(1e-3)))
        assert np.array_equal(bn.forward(x, training=False), bn.params["gamma"] * x_hat + bn.params["beta"])

        for inverted, factor in ((True, dtype(1)), (False, dtype(1) - dtype(0.3))):
            y = L.Dropout(0.3, inverted=inverted, dtype=dtype.__name__).forward(x, training=False)
            assert np.array_equal(y, x * factor) and not np.may_share_memory(y, x)
