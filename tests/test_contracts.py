"""The layer protocol: dtype kept, inputs never written, backward needs a forward, stability."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from comparisons.table import CASES
from scratch import layers as L
from scratch import losses as S

LAYER_CASES = [c for c in CASES if c.kind == "layer"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", LAYER_CASES, ids=[c.id for c in LAYER_CASES])
def test_layer_keeps_dtype_and_leaves_inputs_alone(case, dtype):
    rng = np.random.default_rng(0)
    layer = case.make(dtype)
    for step, mode in enumerate(case.script):
        x = case.inputs(rng, dtype)["xs"][step]
        x_before = x.copy()
        y = layer.forward(x, training=mode == "train")
        dy = rng.standard_normal(y.shape).astype(dtype)
        dy_before = dy.copy()
        dx = layer.backward(dy)
        if isinstance(layer, L.Embedding):  # integer ids carry no gradient: backward returns None
            assert dx is None and x.dtype.kind == "i"
            dx = np.zeros(x.shape, dtype=y.dtype)
        assert y.dtype == dx.dtype == np.dtype(dtype), f"{case.id}: {y.dtype}, {dx.dtype}"
        assert dx.shape == x.shape
        assert all(g.dtype == np.dtype(dtype) for g in layer.grads.values())
        assert all(b.dtype == np.dtype(dtype) for b in layer.buffers.values())
        assert np.array_equal(x, x_before), f"{case.id}: forward or backward wrote into x"
        assert np.array_equal(dy, dy_before), f"{case.id}: backward wrote into dy"
        assert not np.shares_memory(y, x) and not np.shares_memory(dx, dy)


@pytest.mark.parametrize("case", LAYER_CASES, ids=[c.id for c in LAYER_CASES])
def test_backward_before_forward_is_an_error(case):
    layer = case.make("float64")
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((2, 2)))


def test_sigmoid_is_stable_for_large_inputs():
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = L.Sigmoid().forward(x, training=False)
    assert y[0] == 0.0 and y[-1] == 1.0 and y[2] == 0.5
    assert 0 < y[1] < 1e-17


def test_softmax_is_stable_for_large_logits():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = L.Softmax().forward(np.array([[1000.0, 0.0, -1000.0]]), training=False)
    np.testing.assert_array_equal(y, [[1.0, 0.0, 0.0]])


def test_maxpool_sends_a_tied_gradient_to_the_first_maximum():
    pool = L.MaxPool2D(2, stride=2, padding=0)
    pool.forward(np.ones((1, 1, 2, 2)), training=True)
    dx = pool.backward(np.array([[[[3.0]]]]))
    np.testing.assert_array_equal(dx, [[[[3.0, 0.0], [0.0, 0.0]]]])


def test_conv_same_padding_puts_the_extra_row_bottom_right():
    conv = L.Conv2D(1, 1, 3, stride=2, padding="same", rng=np.random.default_rng(0))
    assert conv.pads_for((8, 8)) == (0, 1, 0, 1)
    assert conv.pads_for((7, 7)) == (1, 1, 1, 1)
    assert L.Conv2D(1, 1, 4, padding="same", rng=np.random.default_rng(0)).pads_for((8, 8)) == (1, 2, 1, 2)


def test_dropout_scaling_and_rate_one():
    x = np.ones((1000, 50))
    rng = np.random.default_rng(0)
    inverted = L.Dropout(0.2, inverted=True, rng=rng)
    y = inverted.forward(x, training=True)
    assert set(np.unique(y)) <= {0.0, 1.25}
    assert abs(y.mean() - 1.0) < 0.01  # E[y] = x for inverted dropout
    textbook = L.Dropout(0.2, inverted=False, rng=rng)
    assert abs(textbook.forward(x, training=True).mean() - 0.8) < 0.01
    np.testing.assert_array_equal(textbook.forward(x, training=False), 0.8 * x)
    assert not L.Dropout(1.0, rng=rng).forward(x, training=True).any()


def test_batchnorm_textbook_preset():
    bn = L.BatchNorm.textbook(12)
    assert (bn.momentum, bn.eps, bn.stats, bn.running_var_estimator) == (0.9, 1e-6, "activation", "biased")
    assert not bn.buffers["running_mean"].any() and not bn.buffers["running_var"].any()


def test_keras_probability_ce_case_really_clips():
    case = next(c for c in CASES if c.id == "ce-probs/keras/int")
    y = case.inputs(np.random.default_rng(case.seed), "float64")["y"]
    assert (y < S.KERAS_EPSILON).any(), "the clipping case must contain probabilities below epsilon"
