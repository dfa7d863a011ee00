"""Sequential runs ReLU -> MaxPool2D as MaxPool2D -> ReLU: outputs and gradients must not change a bit."""

from __future__ import annotations

import numpy as np
import pytest

from scratch import layers as L
from scratch.model import Sequential


def _model(pool: L.MaxPool2D, dtype: str, seed: int = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    conv = L.Conv2D(2, 4, 3, stride=1, padding=0, weight_init="glorot_uniform", bias_init="zeros", rng=rng,
                    dtype=dtype)
    probe = pool.forward(np.zeros((1, 4, 10, 10), dtype=dtype), training=False)
    return Sequential([conv, L.ReLU(dtype=dtype), pool, L.Flatten(dtype=dtype),
                       L.Dense(probe[0].size, 5, weight_init="glorot_uniform", bias_init="zeros", rng=rng,
                               dtype=dtype)])


def _pass(model: Sequential, x: np.ndarray, dy_seed: int) -> tuple:
    y = model.forward(x, training=True)
    dy = np.random.default_rng(dy_seed).standard_normal(y.shape).astype(y.dtype)  # random upstream gradient
    dx = model.backward(dy)
    return y, dx, {k: v.copy() for k, v in model.grads.items()}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("pool_args", [(2, 2), (3, 3), (2, 3)])  # (size, stride): windows that do not overlap
@pytest.mark.parametrize("inputs", ["random", "ties"])
def test_commuted_pair_gives_identical_outputs_and_gradients(dtype, pool_args, inputs):
    size, stride = pool_args
    rng = np.random.default_rng(1)
    if inputs == "random":
        x = rng.standard_normal((6, 2, 12, 12)).astype(dtype)
    else:  # small integers: many exact ties, zeros and negative windows after the convolution
        x = rng.integers(-1, 2, (6, 2, 12, 12)).astype(dtype)
    swapped = _model(L.MaxPool2D(size, stride=stride, truncate=True, dtype=dtype), dtype)
    plain = _model(L.MaxPool2D(size, stride=stride, truncate=True, dtype=dtype), dtype)
    if inputs == "ties":  # integer weights make ties among positive maxima, not only zeros
        for m in (swapped, plain):
            m.layers[0].params["W"][...] = np.random.default_rng(2).integers(-1, 2, m.layers[0].params["W"].shape)
    plain.commute_relu_maxpool = False
    a, b = _pass(swapped, x, 3), _pass(plain, x, 3)
    assert swapped._order == [0, 2, 1, 3, 4] and plain._order == [0, 1, 2, 3, 4]
    assert a[0].tobytes() == b[0].tobytes()  # bit for bit, the sign of every zero included
    assert a[1].tobytes() == b[1].tobytes()
    for k in b[2]:
        assert a[2][k].tobytes() == b[2][k].tobytes(), k
    if inputs == "ties":
        assert (a[1] != 0).any()


@pytest.mark.parametrize("pool", [L.MaxPool2D(2, stride=2, padding=1), L.MaxPool2D(3, stride=2, truncate=True),
                                  L.MaxPool2D(2, stride=1)])
def test_padded_or_overlapping_pool_is_not_swapped(pool):
    model = _model(pool, "float64")
    model.forward(np.ones((1, 2, 12, 12)), training=True)
    assert model._order == [0, 1, 2, 3, 4]


def test_a_replaced_layer_is_seen():
    model = _model(L.MaxPool2D(2, stride=2), "float64")
    model.layers[2] = L.AvgPool2D(2, stride=2)  # no longer a ReLU -> MaxPool2D pair
    x = np.random.default_rng(0).standard_normal((2, 2, 12, 12))
    model.forward(x, training=False)
    assert model._order == [0, 1, 2, 3, 4]


def test_eval_forward_is_swapped_and_equal():
    x = np.random.default_rng(0).standard_normal((3, 2, 12, 12))
    m = _model(L.MaxPool2D(2, stride=2, dtype="float64"), "float64")
    y1 = m.forward(x, training=False)
    m.commute_relu_maxpool = False
    np.testing.assert_array_equal(y1, m.forward(x, training=False))
