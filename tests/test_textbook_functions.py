"""scratch.textbook.functions / util / gradient: the book's functions, worked out by hand."""

# ruff: noqa: NPY002  (the book draws from NumPy's global generator; these tests check exactly that)
from __future__ import annotations

import numpy as np
import pytest

from scratch.textbook import functions as F
from scratch.textbook import gradient as G
from scratch.textbook import util as U

LN2, LN3 = np.log(2.0), np.log(3.0)


# -- functions.py ---------------------------------------------------------------------------------
def test_step_identity_and_relu():
    x = np.array([-1.0, 0.0, 2.0])
    assert F.identity_function(x) is x
    out = F.step_function(x)
    assert out.dtype.kind == "i" and out.tolist() == [0, 0, 1]
    assert F.relu(x).tolist() == [0.0, 0.0, 2.0]
    assert F.relu_grad(x).tolist() == [0.0, 1.0, 1.0]  # the book's function counts 0 as positive


def test_sigmoid_and_its_gradient():
    # 1 / (1 + e^0) = 1/2;  1 / (1 + e^-ln3) = 1 / (1 + 1/3) = 3/4;  e^-ln3 / (1 + e^-ln3) = 1/4
    np.testing.assert_allclose(F.sigmoid(np.array([0.0, LN3, -LN3])), [0.5, 0.75, 0.25], rtol=1e-15)
    np.testing.assert_allclose(F.sigmoid_grad(np.array([0.0, LN3])), [0.25, 0.75 * 0.25], rtol=1e-15)
    assert float(F.sigmoid(0)) == 0.5  # scalars work, as in the book
    with np.errstate(over="raise"):
        assert F.sigmoid(np.array([-1000.0]))[0] == 0.0  # no overflow warning (the book's exp(1000) warns)


def test_softmax_of_log_1_2_3_is_1_2_3_over_6():
    x = np.log(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(F.softmax(x), [1 / 6, 2 / 6, 3 / 6], rtol=1e-15)
    batch = np.stack([x, x + 100.0])  # shift invariance, no overflow
    np.testing.assert_allclose(F.softmax(batch), [[1 / 6, 2 / 6, 3 / 6]] * 2, rtol=1e-14)


def test_sum_squared_error_is_half_the_sum_of_squares():
    y, t = np.array([0.1, 0.6, 0.3]), np.array([0.0, 1.0, 0.0])
    assert F.sum_squared_error(y, t) == pytest.approx(0.5 * (0.01 + 0.16 + 0.09), rel=1e-15)  # 0.13


def test_cross_entropy_error_adds_1e7_and_takes_the_argmax_of_rows():
    y = np.array([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]])
    expected = -(np.log(0.6 + 1e-7) + np.log(0.5 + 1e-7)) / 2
    assert F.cross_entropy_error(y, np.array([1, 0])) == expected
    assert F.cross_entropy_error(y, np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])) == expected
    soft = np.array([[0.2, 0.7, 0.1], [0.4, 0.3, 0.3]])  # enters as its argmax, [1, 0]
    assert F.cross_entropy_error(y, soft) == expected
    assert F.cross_entropy_error(y[0], np.array([0.0, 1.0, 0.0])) == -np.log(0.6 + 1e-7)  # 1-D: one sample
    assert F.softmax_loss(np.log(y), np.array([1, 0])) == pytest.approx(expected, rel=1e-15)


def test_cross_entropy_error_rejects_labels_of_the_wrong_size():
    y = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="t: expected 2 integer labels or an array of 6 elements"):
        F.cross_entropy_error(y, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"t: class labels must lie in \[0, 2\]"):
        F.cross_entropy_error(y, np.array([0, 3]))


def test_functions_keep_float32():
    x = np.array([[-1.0, 0.5, 2.0]], dtype=np.float32)
    for f in (F.sigmoid, F.relu, F.softmax, F.sigmoid_grad, F.relu_grad):
        assert f(x).dtype == np.float32, f.__name__


# -- util.py --------------------------------------------------------------------------------------
def test_im2col_rows_are_the_windows():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    col = U.im2col(x, 2, 2, stride=2, pad=0)
    np.testing.assert_array_equal(col, [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]])
    padded = U.im2col(x, 3, 3, stride=3, pad=1)  # (4 + 2 - 3) // 3 + 1 = 2 windows per axis
    np.testing.assert_array_equal(padded[0], [0, 0, 0, 0, 0, 1, 0, 4, 5])


def test_im2col_truncates_like_the_book():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    col = U.im2col(x, 2, 2, stride=2)  # (5 - 2) // 2 + 1 = 2: the last row and column are dropped
    assert col.shape == (4, 4) and col[-1].tolist() == [12, 13, 17, 18]
    assert U.conv_output_size(5, 2, stride=2) == 2.5  # the book's float; the layers floor it
    assert U.conv_output_size(28, 5, 1, 0) == 24.0


def test_col2im_sums_overlapping_windows():
    shape = (1, 1, 4, 4)
    col = np.ones((4, 9))  # 3x3 windows, stride 1: 2 x 2 outputs
    counts = [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]  # how many windows cover each pixel
    np.testing.assert_array_equal(U.col2im(col, shape, 3, 3, stride=1, pad=0)[0, 0], counts)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5))
    c = U.im2col(x, 3, 3, 2, 1)
    y = np.random.default_rng(1).standard_normal(c.shape)
    # adjoint: <im2col(x), y> = <x, col2im(y)>
    assert np.sum(c * y) == pytest.approx(np.sum(x * U.col2im(y, x.shape, 3, 3, 2, 1)), rel=1e-13)
    with pytest.raises(ValueError, match="col: expected a float matrix of shape"):
        U.col2im(np.ones((3, 9)), shape, 3, 3)


def test_im2col_rejects_bad_input():
    with pytest.raises(ValueError, match="input_data: expected a 4-D array"):
        U.im2col(np.ones((4, 4)), 2, 2)
    with pytest.raises(ValueError, match="kernel"):
        U.im2col(np.ones((1, 1, 2, 2)), 3, 3)


def test_smooth_curve_keeps_length_and_constants():
    y = U.smooth_curve(np.full(20, 3.0))
    assert y.shape == (20,)
    np.testing.assert_allclose(y, 3.0, rtol=1e-15)
    with pytest.raises(ValueError, match="at least 11"):
        U.smooth_curve([1.0, 2.0])


def test_shuffle_dataset_uses_one_global_permutation():
    x, t = np.arange(10.0).reshape(5, 2), np.arange(5)
    np.random.seed(3)
    perm = np.random.permutation(5)
    np.random.seed(3)
    xs, ts = U.shuffle_dataset(x, t)
    np.testing.assert_array_equal(ts, perm)
    np.testing.assert_array_equal(xs, x[perm])
    with pytest.raises(ValueError, match="t: expected as many labels"):
        U.shuffle_dataset(x, t[:3])


# -- gradient.py ----------------------------------------------------------------------------------
def test_numerical_gradient_of_a_quadratic_perturbs_x_in_place():
    x = np.array([[3.0, 4.0], [-1.0, 0.5]])
    before = x.copy()
    seen = []

    def f(arg):
        seen.append(arg is x)  # f is called with x itself, perturbed
        return np.sum(x**2)

    g = G.numerical_gradient(f, x)
    np.testing.assert_allclose(g, 2 * before, rtol=1e-9)  # central differences are exact for x^2, up to rounding
    assert all(seen) and len(seen) == 2 * x.size
    assert x.tobytes() == before.tobytes()  # restored bit for bit


def test_numerical_gradient_2d_goes_row_by_row():
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    g = G.numerical_gradient_2d(lambda row: np.sum(row**3), X)
    np.testing.assert_allclose(g, 3 * X**2, rtol=1e-7)
    with pytest.raises(ValueError, match="X: expected a 1-D or 2-D float"):
        G.numerical_gradient_2d(lambda r: 0.0, np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="x: expected a float numpy.ndarray"):
        G.numerical_gradient(lambda r: 0.0, [1.0, 2.0])
