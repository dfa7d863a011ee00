"""Inputs that used to give a silent NaN/inf, a NumPy message or a wrong gradient: each now gets a
documented result or a named error."""

from __future__ import annotations

import numpy as np
import pytest

from scratch import layers as L
from scratch import losses as S
from scratch import optimizers as O
from scratch._checks import NonFiniteError
from scratch.model import Sequential

rng = np.random.default_rng(0)


def raises(match, kind=ValueError):
    return pytest.raises(kind, match=match)


# -- empty batch (N = 0) ---------------------------------------------------------------------------
@pytest.mark.parametrize("make, shape, out_shape", [
    (lambda: L.Conv2D(2, 3, 3, padding=1, rng=rng), (0, 2, 5, 5), (0, 3, 5, 5)),
    (lambda: L.Dense(4, 3, rng=rng), (0, 4), (0, 3)),
    (lambda: L.Flatten(), (0, 2, 3, 3), (0, 18)),
    (lambda: L.MaxPool2D(2), (0, 2, 4, 4), (0, 2, 2, 2)),
    (lambda: L.AvgPool2D(2), (0, 2, 4, 4), (0, 2, 2, 2)),
    (lambda: L.Sigmoid(), (0, 3), (0, 3)),
])
def test_empty_batch_gives_empty_results_and_zero_grads(make, shape, out_shape):
    layer = make()
    y = layer.forward(np.zeros(shape), training=True)
    assert y.shape == out_shape
    dx = layer.backward(np.zeros(out_shape))
    assert dx.shape == shape
    for g in layer.grads.values():
        assert np.array_equal(g, np.zeros_like(g))


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 2, 2)])
def test_batchnorm_empty_batch(shape):
    bn = L.BatchNorm.torch(3)
    with raises(r"x: a batch needs at least one sample, got shape \(0,"):
        bn.forward(np.zeros(shape), training=True)
    assert np.array_equal(bn.buffers["running_mean"], np.zeros(3))  # nothing updated
    y = bn.forward(np.zeros(shape), training=False)  # evaluation: per-sample, empty in, empty out
    assert y.shape == shape and bn.backward(np.zeros(shape)).shape == shape


def test_losses_refuse_an_empty_batch():
    with raises(r"x: a batch needs at least one sample, got shape \(0, 3\)"):
        S.SoftmaxCrossEntropy().forward(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))
    with raises(r"y: a batch needs at least one sample"):
        S.MeanSquaredError().forward(np.zeros((0, 3)), np.zeros((0, 3)))
    with raises(r"p: a batch needs at least one sample"):
        S.CrossEntropy("keras").forward(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))


# -- pooling geometry ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [L.MaxPool2D, L.AvgPool2D])
def test_pool_padding_at_most_half_the_window(cls):
    with raises(r"padding: expected at most half the pool size \(1, 1\) for pool_size \(2, 2\), got 2"):
        cls(2, padding=2)
    with raises(r"padding: expected at most half the pool size \(1, 2\)"):
        cls((3, 4), padding=(1, 3))
    y = cls(2, stride=1, padding=1).forward(rng.standard_normal((1, 1, 2, 2)), training=False)
    assert np.isfinite(y).all() and y.shape == (1, 1, 3, 3)  # every window holds a real cell


@pytest.mark.parametrize("cls", [L.MaxPool2D, L.AvgPool2D])
def test_pool_larger_than_input_names_pool_size(cls):
    with raises("pool_size: the pool height 3 is larger than the padded input height 2"):
        cls(3).forward(np.zeros((1, 1, 2, 2)), training=False)


# -- batch norm arguments --------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"eps": np.inf}, "eps: expected a finite number > 0, got inf"),
    ({"eps": 0.0}, "eps: expected a finite number > 0, got 0.0"),
    ({"eps": -1e-5}, "eps: expected a finite number > 0"),
    ({"eps": np.nan}, "eps: expected a finite number > 0"),
    ({"running_var_init": np.nan}, "running_var_init: expected a finite number >= 0, got nan"),
    ({"running_var_init": -1.0}, "running_var_init: expected a finite number >= 0, got -1.0"),
    ({"running_mean_init": np.inf}, "running_mean_init: expected a finite number, got inf"),
    ({"running_mean_init": "0"}, "running_mean_init: expected a finite number, got '0'"),
])
def test_batchnorm_arguments(kwargs, match):
    args = {"momentum": 0.1, "momentum_of": "batch", "eps": 1e-5, "running_var": "unbiased", **kwargs}
    with raises(match):
        L.BatchNorm(3, **args)


# -- softmax and its losses ------------------------------------------------------------------------
def test_softmax_over_zero_classes():
    with raises(r"x: softmax needs at least one class on the last axis, got shape \(2, 0\)"):
        L.Softmax().forward(np.zeros((2, 0)), training=False)
    with raises(r"x: expected at least one class \(K >= 1\), got shape \(2, 0\)"):
        S.SoftmaxCrossEntropy().forward(np.zeros((2, 0)), np.zeros((2, 0)))


def test_softmax_cross_entropy_refuses_float16():
    with raises("x: expected float32 or float64 predictions, got float16"):
        S.SoftmaxCrossEntropy().forward(np.zeros((2, 3), dtype=np.float16), np.array([0, 1]))


def test_column_labels_are_told_to_be_one_dimensional():
    with raises(r"t: got shape \(2, 1\); pass integer class labels as a 1-D array of shape \(2,\)"):
        S.SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([[0], [1]]))


@pytest.mark.parametrize("loss", [S.SoftmaxCrossEntropy(), S.CrossEntropy("keras"), S.MeanSquaredError()])
def test_loss_backward_before_forward(loss):
    with raises("backward called before forward: call forward", RuntimeError):
        loss.backward()


@pytest.mark.parametrize("semantics", ["textbook", "keras"])
def test_cross_entropy_checks_probabilities(semantics):
    t = np.array([0, 2])
    with raises(r"p: expected probabilities in \[0, 1\], got values from -0.1"):
        S.CrossEntropy(semantics).forward(np.array([[-0.1, 0.6, 0.5], [0.2, 0.3, 0.5]]), t)
    with raises(r"p: expected rows summing to 1 \(within 2.7e-15\), row 1 sums to 0.9;"):
        S.CrossEntropy(semantics).forward(np.array([[0.2, 0.3, 0.5], [0.2, 0.3, 0.4]]), t)
    # a float32 softmax row is accepted: its rounding sits inside the stated tolerance
    z = rng.standard_normal((64, 1000)).astype(np.float32)
    p = L.Softmax(dtype="float32").forward(z, training=False)
    assert np.isfinite(S.CrossEntropy(semantics).forward(p, rng.integers(0, 1000, 64)))


# -- atomic optimizer steps ------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: O.SGD(momentum=0.9), lambda: O.Adam(), lambda: O.RMSprop(),
                                  lambda: O.Adagrad()])
def test_optimizer_step_is_atomic(make):
    opt = make()
    a, b = np.ones(3), np.ones(2)
    opt.step({"a": a, "b": b}, {"a": np.ones(3), "b": np.ones(2)}, lr=0.1)
    before_a, before_state = a.copy(), {k: dict(v) for k, v in opt.state.items()}
    b.flags.writeable = False
    with raises(r"params\['b'\]: the optimizer updates parameters in place, got a read-only array"):
        opt.step({"a": a, "b": b}, {"a": np.ones(3), "b": np.ones(2)}, lr=0.1)
    assert np.array_equal(a, before_a) and opt.iterations == 1
    assert {k: v["t"] for k, v in opt.state.items()} == {k: v["t"] for k, v in before_state.items()} == {"a": 1, "b": 1}
    for k, v in opt.state.items():
        for key, arr in v.items():
            assert arr is before_state[k][key]


def test_optimizer_overflow_raises_and_changes_nothing():
    opt = O.SGD(momentum=0.0)
    a, w = np.ones(3), np.full(2, 1e308)
    with raises(r"params\['w'\]: step 1 \(lr=1e\+308\) would make 2 of 2 values NaN or infinite", NonFiniteError):
        opt.step({"a": a, "w": w}, {"a": np.ones(3), "w": -np.ones(2)}, lr=1e308)
    assert np.array_equal(a, np.ones(3)) and opt.state == {} and opt.iterations == 0


def test_overflowing_layer_and_model_name_the_layer():
    dense = L.Dense(2, 2, W=np.full((2, 2), 1e308), b=np.zeros(2))
    with raises(r"Dense.forward output: 2 of 2 values are NaN or infinite", NonFiniteError):
        dense.forward(np.ones((1, 2)), training=True)
    model = Sequential([L.Dense(2, 2, W=np.eye(2), b=np.zeros(2)), L.Tanh(), L.Dense(2, 2, W=np.full((2, 2), 1e308),
                                                                                     b=np.zeros(2))])
    with raises(r"first non-finite output is that of layer 'dense2' \(Dense\)", NonFiniteError):
        model.forward(np.full((1, 2), 10.0), training=True)
    with raises("MeanSquaredError loss: 1 of 1 values are NaN or infinite", NonFiniteError):
        S.MeanSquaredError().forward(np.full((1, 2), 1e300), np.full((1, 2), -1e300))


def test_no_numpy_overflow_warning_escapes():
    with np.errstate(all="raise"):  # a NumPy warning would become FloatingPointError here
        with raises("NaN or infinite", NonFiniteError):
            O.SGD(momentum=0.0).step({"w": np.full(2, 1e308)}, {"w": -np.ones(2)}, lr=1e308)


# -- in-place edits between forward and backward ---------------------------------------------------
@pytest.mark.parametrize("make", [L.Sigmoid, L.Tanh, L.Softmax])
def test_editing_the_output_before_backward_raises(make):
    layer = make()
    y = layer.forward(rng.standard_normal((4, 5)), training=True)
    dy = rng.standard_normal((4, 5))
    layer.backward(dy)  # unchanged: fine, and repeatable
    y[1, 2] = 0.5
    with raises("backward: the output of the last forward was modified in place", RuntimeError):
        layer.backward(dy)


@pytest.mark.parametrize("edit", [lambda x: x.__setitem__((0, 0), 0.0), lambda x: x.__imul__(2.0),
                                  lambda x: x.__setitem__(slice(None), x[::-1].copy())])
def test_editing_dense_input_before_backward_raises(edit):
    layer = L.Dense(3, 2, rng=rng)
    x = rng.standard_normal((4, 3))
    layer.forward(x, training=True)
    edit(x)
    with raises("Dense.backward: the input of the last forward was modified in place", RuntimeError):
        layer.backward(rng.standard_normal((4, 2)))


def test_editing_model_input_or_output_before_backward_raises():
    model = Sequential([L.Dense(3, 4, rng=rng), L.Sigmoid()])
    x = rng.standard_normal((5, 3))
    y = model.forward(x, training=True)
    dy = rng.standard_normal(y.shape)
    model.backward(dy)
    x[0, 0] += 1.0
    with raises("the input x of the last forward was modified in place", RuntimeError):
        model.backward(dy)
    x = rng.standard_normal((5, 3))
    y = model.forward(x, training=True)
    y *= 2
    with raises("the output of the last forward was modified in place", RuntimeError):
        model.backward(dy)
