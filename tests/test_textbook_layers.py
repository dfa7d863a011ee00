"""scratch.textbook.layers: the book's layer classes, worked out by hand, against their core layers
bit for bit, with the book's shared-array semantics, train_flg, global-seed dropout and clear errors."""

# ruff: noqa: NPY002  (the book draws from NumPy's global generator; these tests check exactly that)
from __future__ import annotations

import numpy as np
import pytest

from scratch import layers as L
from scratch import losses as S
from scratch.textbook import layers as T

LN3 = np.log(3.0)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# -- worked examples ------------------------------------------------------------------------------
def test_affine_2x3_by_hand():
    W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = np.array([0.5, -1.0, 0.0])
    layer = T.Affine(W, b)
    y = layer.forward(np.array([[1.0, 1.0], [2.0, -1.0]]))
    np.testing.assert_array_equal(y, [[1 + 4 + 0.5, 2 + 5 - 1, 3 + 6], [2 - 4 + 0.5, 4 - 5 - 1, 6 - 6]])
    dx = layer.backward(np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]))
    np.testing.assert_array_equal(dx, [[1 - 3, 4 - 6], [2 + 2, 8 + 5]])  # dout @ W.T
    np.testing.assert_array_equal(layer.dW, [[1 + 4, 2, -1], [1 - 2, -1, -1]])  # x.T @ dout
    np.testing.assert_array_equal(layer.db, [3, 1, -1])


def test_affine_flattens_images_and_restores_their_shape():
    layer = T.Affine(np.ones((4, 2)), np.zeros(2))
    x = np.arange(8.0).reshape(2, 1, 2, 2)
    np.testing.assert_array_equal(layer.forward(x), [[6, 6], [22, 22]])
    assert layer.original_x_shape == (2, 1, 2, 2) and layer.x.shape == (2, 4)
    assert layer.backward(np.ones((2, 2))).shape == (2, 1, 2, 2)


def test_relu_and_sigmoid_by_hand():
    relu = T.Relu()
    np.testing.assert_array_equal(relu.forward(np.array([[-1.0, 0.0, 2.0]])), [[0, 0, 2]])
    assert relu.mask.tolist() == [[True, True, False]]
    dout = np.array([[5.0, 6.0, 7.0]])
    np.testing.assert_array_equal(relu.backward(dout), [[0, 0, 7]])
    assert dout.tolist() == [[5, 6, 7]]  # unlike the book, dout is not written into
    sig = T.Sigmoid()
    np.testing.assert_allclose(sig.forward(np.array([0.0, LN3])), [0.5, 0.75], rtol=1e-15)
    np.testing.assert_allclose(sig.backward(np.array([1.0, 2.0])), [0.25, 2 * 0.75 * 0.25], rtol=1e-15)
    assert sig.out is not None


def test_softmax_with_loss_on_two_samples():
    # softmax([0, ln 3]) = [1/4, 3/4];  softmax([0, 0]) = [1/2, 1/2]
    x = np.array([[0.0, LN3], [0.0, 0.0]])
    layer = T.SoftmaxWithLoss()
    loss = layer.forward(x, np.array([1, 0]))
    assert loss == pytest.approx(-(np.log(0.75 + 1e-7) + np.log(0.5 + 1e-7)) / 2, rel=1e-15)
    np.testing.assert_allclose(layer.y, [[0.25, 0.75], [0.5, 0.5]], rtol=1e-15)
    np.testing.assert_allclose(layer.backward(), [[0.125, -0.125], [-0.25, 0.25]], rtol=1e-14)  # (y - t) / 2
    np.testing.assert_allclose(layer.backward(2.0), [[0.25, -0.25], [-0.5, 0.5]], rtol=1e-14)
    one_hot = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert layer.forward(x, one_hot) == loss
    # soft labels: argmax [1, 0] in the loss, t itself in the gradient
    soft = np.array([[0.3, 0.7], [0.6, 0.4]])
    assert layer.forward(x, soft) == loss
    np.testing.assert_allclose(layer.backward(), [[-0.025, 0.025], [-0.05, 0.05]], rtol=1e-13)
    assert layer.t is soft


def test_softmax_with_loss_caps_a_confident_mistake():
    layer = T.SoftmaxWithLoss()
    loss = layer.forward(np.array([[0.0, -100.0]]), np.array([1]))
    assert loss == pytest.approx(-np.log(np.exp(-100.0) + 1e-7), rel=1e-12)  # 16.1, not 100
    assert S.SoftmaxCrossEntropy().forward(np.array([[0.0, -100.0]]), np.array([1])) == pytest.approx(100.0)


def test_softmax_with_loss_backward_is_the_gradient_without_the_delta():
    from scratch.gradcheck import numerical_gradient

    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((3, 4)), np.array([0, 3, 1])
    layer = T.SoftmaxWithLoss()
    layer.forward(x, t)
    dx = layer.backward()
    plain = numerical_gradient(lambda: float(S.SoftmaxCrossEntropy().forward(x, t)), x, h=1e-5)
    own = numerical_gradient(lambda: float(T.SoftmaxWithLoss().forward(x, t)), x, h=1e-5)
    np.testing.assert_allclose(dx, plain, rtol=0, atol=1e-10)
    # d/dx of -log(y_c + delta) = (y_c / (y_c + delta)) * d/dx of -log(y_c): the book leaves the factor out
    y_c = layer.y[np.arange(3), t]
    np.testing.assert_allclose(own, dx * (y_c / (y_c + 1e-7))[:, None], rtol=0, atol=1e-10)
    assert np.abs(own - dx).max() > 1e-9


def test_pooling_4x4_to_2x2():
    x = np.array([[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0], [9.0, 1.0, 2.0, 8.0]])
    pool = T.Pooling(2, 2)  # the book's default stride is 2
    y = pool.forward(x[None, None])
    np.testing.assert_array_equal(y[0, 0], [[4, 5], [9, 8]])
    assert pool.arg_max.tolist() == [3, 0, 2, 3]  # position of the maximum in each window, row-major
    dx = pool.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]])


def test_pooling_truncates_and_ties_go_to_the_first_maximum():
    pool = T.Pooling(2, 2, stride=2)
    y = pool.forward(np.ones((1, 1, 5, 5)))  # (5 - 2) // 2 + 1 = 2: last row and column dropped
    assert y.shape == (1, 1, 2, 2)
    dx = pool.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(dx[0, 0, :2, :2], [[1, 0], [0, 0]])
    assert dx[0, 0, 4].sum() == 0 and dx[0, 0, :, 4].sum() == 0


def test_convolution_1x1x3x3_with_a_2x2_filter():
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    conv = T.Convolution(np.array([[[[1.0, 2.0], [0.0, -1.0]]]]), np.array([10.0]))
    # out[i, j] = x[i, j] + 2 x[i, j+1] - x[i+1, j+1] + 10
    np.testing.assert_array_equal(conv.forward(x)[0, 0],
                                  [[1 + 4 - 5 + 10, 2 + 6 - 6 + 10], [4 + 10 - 8 + 10, 5 + 12 - 9 + 10]])
    dx = conv.backward(np.array([[[[1.0, 0.0], [0.0, 2.0]]]]))
    np.testing.assert_array_equal(conv.db, [3])
    np.testing.assert_array_equal(conv.dW[0, 0], [[1 + 2 * 5, 2 + 2 * 6], [4 + 2 * 8, 5 + 2 * 9]])
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 0], [0, -1 + 2, 4], [0, 0, -2]])  # W at (0,0) + 2W at (1,1)
    assert conv.col.shape == (4, 4) and conv.col_W.shape == (4, 1)


def test_convolution_truncates_like_the_book():
    conv = T.Convolution(np.ones((1, 1, 3, 3)), np.zeros(1), stride=2, pad=0)
    assert conv.forward(np.ones((1, 1, 4, 4))).shape == (1, 1, 1, 1)  # (4 - 3) // 2 + 1


def test_batch_normalization_on_three_samples():
    gamma, beta = np.array([2.0]), np.array([1.0])
    bn = T.BatchNormalization(gamma, beta)
    assert bn.running_mean is None  # made at the first forward, as in the book
    x = np.array([[1.0], [2.0], [3.0]])  # mean 2, biased variance 2/3
    s2 = 2 / 3 + 1e-6
    y = bn.forward(x, train_flg=True)
    np.testing.assert_allclose(y[:, 0], 2 * np.array([-1, 0, 1]) / np.sqrt(s2) + 1, rtol=1e-15)
    np.testing.assert_allclose(bn.running_mean, [0.1 * 2], rtol=1e-15)  # 0.9 * 0 + 0.1 * mu
    np.testing.assert_allclose(bn.running_var, [0.1 * 2 / 3], rtol=1e-15)
    assert bn.batch_size == 3 and bn.xc[:, 0].tolist() == [-1, 0, 1] and bn.std[0] == np.sqrt(s2)
    dx = bn.backward(np.array([[1.0], [0.0], [0.0]]))
    # dx = gamma / std / N * (N dout - sum(dout) - xn * sum(dout * xn)), xn = [-1, 0, 1] / std
    std = np.sqrt(s2)
    np.testing.assert_allclose(dx[:, 0], 2 / (3 * std) * np.array([2 - 1 / s2, -1, -1 + 1 / s2]), rtol=1e-12)
    np.testing.assert_allclose(bn.dgamma, [-1 / std], rtol=1e-15)
    np.testing.assert_array_equal(bn.dbeta, [1.0])
    # test mode: running statistics, left unchanged
    rm, rv = bn.running_mean, bn.running_var
    y_test = bn.forward(np.array([[2.0]]), train_flg=False)
    assert y_test[0, 0] == pytest.approx(2 * (2 - 0.2) / np.sqrt(0.2 / 3 + 1e-6) + 1, rel=1e-14)
    assert bn.running_mean is rm and bn.running_var is rv


def test_dropout_with_a_fixed_seed():
    np.random.seed(0)  # np.random.rand(2, 3) = [[0.549, 0.715, 0.603], [0.545, 0.424, 0.646]]
    x = np.arange(1.0, 7.0).reshape(2, 3)
    drop = T.Dropout(0.5)
    np.testing.assert_array_equal(drop.forward(x), [[1, 2, 3], [4, 0, 6]])
    np.testing.assert_array_equal(drop.backward(np.ones((2, 3))), [[1, 1, 1], [1, 0, 1]])
    np.testing.assert_array_equal(drop.forward(x, train_flg=False), x * 0.5)  # not inverted


def test_dropout_masks_are_the_books_draws():
    x = np.random.default_rng(0).standard_normal((4, 3, 5))
    for seed in (0, 1, 2):
        np.random.seed(seed)
        expected = np.random.rand(*x.shape) > 0.3
        np.random.seed(seed)
        drop = T.Dropout(dropout_ratio=0.3)
        y = drop.forward(x)
        np.testing.assert_array_equal(drop.mask, expected)
        assert same_bits(y, x * expected)


# -- the same bits as the core layer ------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bit_identical_to_the_core_layers(dtype):
    rng = np.random.default_rng(1)

    def r(*shape):
        return rng.standard_normal(shape).astype(dtype)

    x2, x4 = r(6, 12), r(2, 3, 6, 6)
    pairs = [
        (T.Affine(r(12, 5), r(5)), None, x2),
        (T.Relu(), L.ReLU(dtype=dtype), x2),
        (T.Sigmoid(), L.Sigmoid(dtype=dtype), x2),
        (T.Convolution(r(4, 3, 3, 3), r(4), stride=2, pad=1), None, x4),
        (T.Pooling(2, 2, stride=2), L.MaxPool2D(2, stride=2, padding=0, truncate=True, dtype=dtype), x4),
        (T.BatchNormalization(r(12), r(12)), None, x2),
    ]
    for book, core, x in pairs:
        if core is None:  # a fresh core layer with the book layer's parameters
            params = book.core_for().params
            if isinstance(book, T.Affine):
                core = L.Dense(12, 5, W=params["W"], b=params["b"], dtype=dtype)
            elif isinstance(book, T.Convolution):
                core = L.Conv2D(3, 4, 3, stride=2, padding=1, truncate=True, W=params["W"], b=params["b"], dtype=dtype)
            else:
                core = L.BatchNorm.textbook(12, dtype=dtype)
                core.params.update({k: v.copy() for k, v in params.items()})
        y_book, y_core = book.forward(x), core.forward(x, training=True)
        dy = r(*y_core.shape)
        assert same_bits(y_book, y_core), type(book).__name__
        assert same_bits(book.backward(dy), core.backward(dy)), type(book).__name__
        assert y_book.dtype == np.dtype(dtype)
        for name, grad in core.grads.items():
            attr = {"W": "dW", "b": "db", "gamma": "dgamma", "beta": "dbeta"}[name]
            assert same_bits(getattr(book, attr), grad), f"{type(book).__name__}.{attr}"
    drop = T.Dropout(0.3)
    mask = rng.random(x2.shape) >= 0.3
    core = L.Dropout(0.3, inverted=False, dtype=dtype)
    assert same_bits(drop.forward_with_mask(x2, mask), core.forward(x2, training=True, mask=mask))
    logits, t = r(6, 4), rng.integers(0, 4, 6)
    loss = T.SoftmaxWithLoss()
    ref = S.SoftmaxCrossEntropy(semantics="textbook")
    assert loss.forward(logits, t) == ref.forward(logits, t)
    assert same_bits(loss.backward(), ref.backward(1.0))


# -- the book's shared arrays -------------------------------------------------------------------
def test_an_in_place_update_of_the_params_array_changes_the_next_output():
    rng = np.random.default_rng(2)
    params = {"W1": rng.standard_normal((3, 2)), "b1": np.zeros(2)}
    layer = T.Affine(params["W1"], params["b1"])
    x = rng.standard_normal((4, 3))
    layer.forward(x)
    layer.backward(np.ones((4, 2)))
    grads = {"W1": layer.dW, "b1": layer.db}
    for key in params:  # the book's SGD.update
        params[key] -= 0.1 * grads[key]
    assert layer.W is params["W1"]
    np.testing.assert_array_equal(layer.forward(x), x @ params["W1"] + params["b1"])
    assert layer.core.params["W"] is params["W1"]


def test_reassigned_weights_are_used_as_load_params_does():
    conv = T.Convolution(np.zeros((2, 1, 2, 2)), np.zeros(2))
    new_W = np.ones((2, 1, 2, 2))
    conv.W = new_W  # the book's load_params
    y = conv.forward(np.ones((1, 1, 3, 3)))
    np.testing.assert_array_equal(y, np.full((1, 2, 2, 2), 4.0))
    assert conv.core.params["W"] is new_W
    bn = T.BatchNormalization(np.ones(2), np.zeros(2), running_mean=np.array([1.0, 2.0]),
                              running_var=np.array([4.0, 9.0]))
    bn.gamma = np.array([2.0, 2.0])
    y = bn.forward(np.array([[3.0, 5.0]]), train_flg=False)
    np.testing.assert_allclose(y, [[2 * 2 / np.sqrt(4 + 1e-6), 2 * 3 / np.sqrt(9 + 1e-6)]], rtol=1e-15)


def test_float32_parameters_compute_in_float32_and_convert_the_input():
    layer = T.Affine(np.ones((3, 2), dtype=np.float32), np.zeros(2, dtype=np.float32))
    y = layer.forward(np.ones((2, 3)))  # float64 input, float32 layer
    assert y.dtype == np.float32
    layer64 = T.Affine(np.ones((3, 2)), np.zeros(2))
    assert layer64.forward(np.ones((2, 3), dtype=np.float32)).dtype == np.float64  # as the book's MNIST images


# -- bad input ------------------------------------------------------------------------------------
def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"pad: the book's Pooling sizes its output without the padding"):
        T.Pooling(2, 2, stride=2, pad=1).forward(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"t: expected integer labels of shape \(2,\) or one-hot"):
        T.SoftmaxWithLoss().forward(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="x: expected shape"):
        T.Affine(np.ones((3, 2)), np.zeros(2)).forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="b: expected shape"):
        T.Affine(np.ones((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="x: expected 3 channels"):
        T.Convolution(np.ones((1, 3, 2, 2)), np.zeros(1)).forward(np.ones((1, 2, 4, 4)))
    with pytest.raises(ValueError, match="x: expected a numpy.ndarray"):
        T.Relu().forward([1.0, 2.0])
    with pytest.raises(ValueError, match="rate"):
        T.Dropout(1.5)
    for layer in (T.Relu(), T.Sigmoid(), T.Dropout(), T.Pooling(2, 2), T.Affine(np.ones((2, 2)), np.zeros(2)),
                  T.BatchNormalization(np.ones(2), np.zeros(2)), T.Convolution(np.ones((1, 1, 2, 2)), np.zeros(1))):
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.ones((1, 2)))


def test_pooling_with_a_padding_that_adds_no_window_pads_with_zeros_as_the_book():
    pool = T.Pooling(2, 2, stride=4, pad=1)  # (6 - 2) // 4 + 1 = (6 + 2 - 2) // 4 + 1 = 2
    y = pool.forward(-np.ones((1, 1, 6, 6)))
    np.testing.assert_array_equal(y[0, 0], [[0, 0], [0, -1]])  # windows touching the padding see its zeros
