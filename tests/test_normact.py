"""LayerNorm, GroupNorm, Embedding and the activations beyond the textbook: worked examples with the
numbers written out, bad input, and the fast numerical gradient through their declared traits.
(Framework parity, float64 and float32, is in the case table: ``tests/test_parity.py``.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratch import layers as L
from scratch import losses as S
from scratch.fastgrad import fast_numerical_gradient
from scratch.gradcheck import backprop_gradient, model_numerical_gradient
from scratch.model import Sequential


# -- worked examples ---------------------------------------------------------------------------------
def test_layernorm_worked_example():
    # x = [1, 2, 3, 6]: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5; eps 0.5 -> sqrt(4) = 2
    ln = L.LayerNorm((4,), axes=(-1,), eps=0.5, gamma=np.array([1.0, 2.0, 1.0, 1.0]), beta=np.full(4, 0.5))
    y = ln.forward(np.array([[1.0, 2.0, 3.0, 6.0]]), training=True)
    np.testing.assert_allclose(y, [[-1.0 + 0.5, -1.0 + 0.5, 0.0 + 0.5, 1.5 + 0.5]], rtol=0, atol=1e-15)
    ln.backward(np.array([[1.0, 0.0, 0.0, 2.0]]))
    np.testing.assert_allclose(ln.grads["gamma"], [-1.0, 0.0, 0.0, 3.0], atol=1e-15)  # dy * x_hat
    np.testing.assert_allclose(ln.grads["beta"], [1.0, 0.0, 0.0, 2.0], atol=1e-15)


def test_layernorm_over_a_middle_axis_normalises_each_column():
    x = np.array([[[1.0, 10.0], [3.0, 30.0]]])  # (1, 2, 2): axis 1 pairs (1, 3) and (10, 30)
    y = L.LayerNorm((2,), axes=(1,), eps=1e-12).forward(x, training=False)
    np.testing.assert_allclose(y, [[[-1.0, -1.0], [1.0, 1.0]]], atol=1e-9)


def test_groupnorm_worked_example():
    # channels (0, 1) form group 0: values 1, 3 | 5, 7 -> mean 4, variance 5; eps 4 -> sqrt(9) = 3
    x = np.array([[[1.0, 3.0], [5.0, 7.0], [2.0, 2.0], [2.0, 2.0]]])  # (1, 4, 2), 2 groups
    y = L.GroupNorm(4, 2, eps=4.0).forward(x, training=True)
    np.testing.assert_allclose(y[0, :2], [[-1.0, -1 / 3], [1 / 3, 1.0]], atol=1e-15)
    np.testing.assert_allclose(y[0, 2:], 0.0, atol=1e-15)  # a constant group: x_hat = 0


def test_embedding_lookup_and_gradient_rows_add_up():
    W = np.arange(8.0).reshape(4, 2)
    emb = L.Embedding(4, 2, W=W, padding_idx=0)
    ids = np.array([[1, 0, 1]])
    np.testing.assert_array_equal(emb.forward(ids, training=True), [[[2, 3], [0, 1], [2, 3]]])
    assert emb.backward(np.array([[[1.0, 2.0], [5.0, 5.0], [10.0, 20.0]]])) is None
    np.testing.assert_array_equal(emb.grads["W"], [[0, 0], [11, 22], [0, 0], [0, 0]])  # row 0: padding


@pytest.mark.parametrize(("layer", "x", "y", "dydx"), [
    (L.LeakyReLU(0.2), [-2.0, 0.0, 3.0], [-0.4, 0.0, 3.0], [0.2, 0.2, 1.0]),
    (L.ELU(0.5), [-math.log(2), 2.0], [-0.25, 2.0], [0.25, 1.0]),  # 0.5 * (1/2 - 1), 0.5 * e^-ln2
    (L.GELU("none"), [0.0, 1.0], [0.0, 0.8413447460685429], [0.5, 0.8413447460685429 + 0.24197072451914337]),
    (L.GELU("tanh"), [0.0], [0.0], [0.5]),
    (L.SiLU(), [0.0, math.log(3)], [0.0, 0.75 * math.log(3)], [0.5, 0.75 * (1 + math.log(3) * 0.25)]),
    (L.Softplus(), [0.0, math.log(3)], [math.log(2), math.log(4)], [0.5, 0.75]),
    (L.Softplus(threshold=1.0), [2.0], [2.0], [1.0]),  # PyTorch's cut-off: y = x above it
    (L.HardSigmoid(), [-4.0, 1.5, 3.0], [0.0, 0.75, 1.0], [0.0, 1 / 6, 0.0]),
])
def test_activation_worked_examples(layer, x, y, dydx):
    x = np.array([x])
    np.testing.assert_allclose(layer.forward(x, training=True), [y], rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), [dydx], rtol=1e-15, atol=1e-16)


def test_float32_activations_stay_float32():
    x = np.linspace(-4, 4, 9, dtype=np.float32)[None]
    for layer in (L.GELU("none", dtype="float32"), L.GELU("tanh", dtype="float32"), L.SiLU(dtype="float32")):
        assert layer.forward(x, training=True).dtype == np.float32
        assert layer.backward(np.ones_like(x)).dtype == np.float32


# -- bad input ---------------------------------------------------------------------------------------
def raises(match):
    return pytest.raises(ValueError, match=match)


def test_embedding_refuses_ids_outside_the_table():
    emb = L.Embedding(5, 2, rng=np.random.default_rng(0))
    with raises(r"x: expected ids in \[0, 5\) \(num_embeddings=5\), got 1 outside, e.g. 5"):
        emb.forward(np.array([[0, 5, 1]]), training=True)
    with raises(r"x: expected ids in \[0, 5\).*e.g. -1"):  # Keras would wrap -1 to the last row
        emb.forward(np.array([[-1]]), training=True)
    with raises("x: expected integer ids .*fractional"):
        emb.forward(np.array([[1.5]]), training=True)
    with raises("x: expected an integer array of ids .*got dtype float32"):
        emb.forward(np.array([[1.0]], dtype=np.float32), training=True)
    with raises(r"padding_idx: expected None or an int in \[0, 5\), got 7"):
        L.Embedding(5, 2, padding_idx=7, rng=np.random.default_rng(0))


def test_groupnorm_refuses_groups_that_do_not_divide_the_channels():
    with raises("groups: expected a divisor of num_channels=6, got 4"):
        L.GroupNorm(6, 4, eps=1e-5)
    with raises(r"x: expected shape \(N, 6, ...\) \(channels first\), got \(2, 3, 6\)"):
        L.GroupNorm(6, 3, eps=1e-5).forward(np.zeros((2, 3, 6)), training=True)


def test_layernorm_refuses_the_batch_axis_and_wrong_sizes():
    with raises("axes: expected 1 distinct axes other than the batch axis 0"):
        L.LayerNorm((4,), axes=(0,), eps=1e-5)
    with raises(r"x: expected sizes \(4,\) on axes \(-1,\), got \(5,\)"):
        L.LayerNorm((4,), axes=(-1,), eps=1e-5).forward(np.zeros((2, 5)), training=True)
    with raises("eps: expected a finite number > 0"):
        L.LayerNorm((4,), axes=(-1,), eps=0.0)


def test_activation_arguments_are_checked():
    with raises("approximate: expected one of 'none', 'tanh', got True"):
        L.GELU(True)  # Keras's spelling of the flag
    with raises("negative_slope: expected a finite number >= 0"):
        L.LeakyReLU(-0.1)


# -- the fast numerical gradient reads the declared traits ---------------------------------------------
def _check_fast(model, x, t, training=False):
    loss = S.SoftmaxCrossEntropy()
    fast = fast_numerical_gradient(model, x, t, loss=loss, training=training, h=1e-5)
    slow = model_numerical_gradient(model, x, t, loss=loss, training=training, h=1e-5)
    _, bp = backprop_gradient(model, x, t, loss=loss, training=training)
    assert fast.keys() == slow.keys() == bp.keys()
    for name in fast:
        np.testing.assert_allclose(fast[name], slow[name], rtol=0, atol=1e-9, err_msg=name)
        scale = np.abs(bp[name]).max()
        assert scale > 1e-4, name  # not trivially zero
        assert np.abs(fast[name] - bp[name]).max() <= 1e-6 * scale, name


def test_fast_numerical_gradient_through_embedding_and_layernorm():
    rng = np.random.default_rng(4)
    model = Sequential([L.Embedding(6, 3, rng=rng), L.LayerNorm((2, 3), axes=(1, 2), eps=1e-3,
                                                                gamma=1 + 0.3 * rng.standard_normal((2, 3))),
                        L.GELU("none"), L.Dense(6, 3, rng=rng)])
    x = rng.integers(0, 6, size=(5, 2)).astype(np.float64)  # ids as whole numbers (the model checks its dtype)
    _check_fast(model, x, rng.integers(0, 3, 5))


def test_fast_numerical_gradient_through_groupnorm_and_activations():
    rng = np.random.default_rng(5)
    layers = [L.Dense(4, 6, rng=rng), L.GroupNorm(6, 3, eps=1e-5, beta=0.2 * rng.standard_normal(6)),
              L.LeakyReLU(0.2), L.ELU(0.7), L.GELU("tanh"), L.SiLU(), L.Softplus(), L.HardSigmoid(),
              L.Dense(6, 3, rng=rng)]
    _check_fast(Sequential(layers), 2 * rng.standard_normal((5, 4)), rng.integers(0, 3, 5), training=True)


def test_keras_mask_zero_makes_a_mask_and_leaves_the_gradient():
    """The Keras twin of padding_idx=0 (mask_zero=True) masks id 0 for the layers after it; its row-0
    gradient is the one the case table's known difference zeroes (embedding/padding-0)."""
    from reference import keras_layers

    ids = np.array([[0, 2, 0, 1]])
    emb = L.Embedding(3, 2, padding_idx=0, W=np.arange(6.0).reshape(3, 2))
    twin = keras_layers.build(emb, ids.shape)
    y, _ = twin.forward(ids, training=True)
    np.testing.assert_array_equal(np.asarray(twin.mask), ids != 0)
    np.testing.assert_array_equal(y, emb.forward(ids, training=True))  # row 0 is looked up, not zeroed
    _, grads = twin.backward(np.ones((1, 4, 2)))
    np.testing.assert_array_equal(grads["W"], [[2, 2], [1, 1], [1, 1]])  # row 0: two occurrences, kept
