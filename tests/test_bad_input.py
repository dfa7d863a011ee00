"""Bad input gets a ValueError that names the argument, what was given and what was expected."""

from __future__ import annotations

import numpy as np
import pytest

from scratch import layers as L
from scratch import losses as S

rng = np.random.default_rng(0)


def raises(match):
    return pytest.raises(ValueError, match=match)


def test_dense_wrong_feature_count():
    with raises(r"x: expected shape \(N, 4\)"):
        L.Dense(4, 3, rng=rng).forward(np.zeros((2, 5)), training=True)


def test_wrong_dtype_names_both_dtypes():
    with raises("expected dtype float64.*got float32"):
        L.ReLU().forward(np.zeros((2, 3), dtype=np.float32), training=True)
    with raises("dtype: expected 'float32' or 'float64'"):
        L.ReLU(dtype="int32")


def test_non_array_and_nan_inputs():
    with raises("x: expected a numpy.ndarray"):
        L.Tanh().forward([[1.0, 2.0]], training=True)
    with raises("x: expected finite values"):
        L.Tanh().forward(np.array([[np.nan, 1.0]]), training=True)


def test_conv_channel_mismatch():
    with raises("x: expected 3 channels"):
        L.Conv2D(3, 2, 3, rng=rng).forward(np.zeros((1, 2, 5, 5)), training=True)


def test_conv_wrong_rank():
    with raises("x: expected a 4-D array"):
        L.Conv2D(3, 2, 3, rng=rng).forward(np.zeros((3, 5, 5)), training=True)


def test_kernel_larger_than_padded_input():
    with raises("kernel_size: the kernel height 5 is larger than the padded input height 4"):
        L.Conv2D(1, 1, 5, padding=0, rng=rng).forward(np.zeros((1, 1, 4, 8)), training=True)


def test_non_integer_output_size():
    with raises(r"stride: the output height \(8 - 3\) / 2 \+ 1 is not an integer"):
        L.Conv2D(1, 1, 3, stride=2, rng=rng).forward(np.zeros((1, 1, 8, 8)), training=True)
    with raises("not an integer"):
        L.MaxPool2D(2).forward(np.zeros((1, 1, 5, 5)), training=True)


def test_unknown_padding_mode():
    with raises("padding: expected one of 'valid', 'same', got 'full'"):
        L.Conv2D(1, 1, 3, padding="full", rng=rng)
    with raises("padding: expected an int >= 0"):
        L.AvgPool2D(2, padding=-1)


def test_bad_kernel_and_stride():
    with raises("kernel_size: expected an int >= 1"):
        L.Conv2D(1, 1, 0, rng=rng)
    with raises("stride: expected an int >= 1"):
        L.MaxPool2D(2, stride=(1, 0))


def test_label_out_of_range():
    with raises(r"t: class labels must lie in \[0, 2\] for 3 classes, got 3"):
        S.SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0, 3]))
    with raises("t: class labels"):
        S.CrossEntropy("keras").forward(np.full((2, 3), 1 / 3), np.array([-1, 0]))


def test_label_shape_and_kind():
    with raises(r"t: expected shape \(2,\)"):
        S.SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0, 1, 2]))
    with raises("t: expected integer labels"):
        S.SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with raises("t: one-hot / probability rows must be non-negative and sum to 1"):
        S.SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.ones((2, 3)))
    with raises("semantics: expected one of 'textbook', 'keras'"):
        S.CrossEntropy("torch")


def test_mse_shape_mismatch():
    with raises(r"t: expected shape \(2, 3\)"):
        S.MeanSquaredError().forward(np.zeros((2, 3)), np.zeros((2, 4)))


def test_batchnorm_feature_mismatch_and_options():
    with raises(r"x: expected 3 features \(C\)"):
        L.BatchNorm.torch(3).forward(np.zeros((2, 4, 2, 2)), training=True)
    with raises("momentum_of: expected one of 'running', 'batch'"):
        L.BatchNorm(3, momentum=0.9, momentum_of="old", eps=1e-5, running_var="biased")
    with raises(r"momentum: expected a number in \[0, 1\]"):
        L.BatchNorm(3, momentum=1.5, momentum_of="batch", eps=1e-5, running_var="biased")
    with raises("unbiased running variance needs more than 1 value"):
        L.BatchNorm.torch(3).forward(np.zeros((1, 3)), training=True)


def test_dropout_arguments():
    with raises(r"rate: expected a number in \[0, 1\]"):
        L.Dropout(1.5)
    with raises(r"mask: expected shape \(2, 3\)"):
        L.Dropout(0.5).forward(np.zeros((2, 3)), training=True, mask=np.ones((3, 2), dtype=bool))
    with raises("rng: Dropout needs a numpy.random.Generator"):
        L.Dropout(0.5).forward(np.zeros((2, 3)), training=True)


def test_upstream_gradient_shape():
    relu = L.ReLU()
    relu.forward(np.zeros((2, 3)), training=True)
    with raises(r"dy: expected shape \(2, 3\)"):
        relu.backward(np.zeros((3, 2)))


def test_explicit_weights_checked():
    with raises(r"W: expected shape \(4, 3\)"):
        L.Dense(4, 3, W=np.zeros((3, 4)))
    with raises("initializer: expected one of"):
        L.Dense(4, 3, weight_init="nope", rng=rng)
