"""Conv1D, Conv2D with dilation and groups, DepthwiseConv2D, Conv2DTranspose and global pooling:
worked examples with the numbers written out, the bad-input errors, and the framework facts their
twins rest on (Keras 'same' against PyTorch padding / output_padding)."""

from __future__ import annotations

import numpy as np
import pytest

from scratch import layers as L


def A(rows) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def test_conv1d_worked_example():
    # y[o] = b + sum_k W[k] x[o + k]: [1, 2, 3, 4] * [1, 0, -1] + 0.5 = [1 - 3, 2 - 4] + 0.5
    conv = L.Conv1D(1, 1, 3, padding="valid", W=A([[[1, 0, -1]]]), b=A([0.5]))
    y = conv.forward(A([[[1, 2, 3, 4]]]), training=True)
    np.testing.assert_array_equal(y, [[[-1.5, -1.5]]])
    dx = conv.backward(A([[[1, 10]]]))  # dx[i] = sum_o dy[o] W[i - o]
    np.testing.assert_array_equal(dx, [[[1, 10, -1, -10]]])
    np.testing.assert_array_equal(conv.grads["W"], [[[1 + 20, 2 + 30, 3 + 40]]])


def test_conv1d_causal_pads_left_only():
    # dilation 2, k 2: y[o] = W[0] x[o - 2] + W[1] x[o], with zeros before the start
    conv = L.Conv1D(1, 1, 2, padding="causal", dilation=2, W=A([[[10, 1]]]), b=A([0.0]))
    np.testing.assert_array_equal(conv.forward(A([[[1, 2, 3, 4]]]), training=False), [[[1, 2, 13, 24]]])


def test_grouped_and_dilated_conv2d_worked_example():
    # 2 groups of one channel each, 1x2 kernels, dilation 2: y_g = w_g0 x_g[:, j] + w_g1 x_g[:, j + 2]
    x = np.arange(2 * 1 * 4, dtype=np.float64).reshape(1, 2, 1, 4)  # channel 0: 0..3, channel 1: 4..7
    conv = L.Conv2D(2, 2, (1, 2), dilation=2, groups=2, W=A([[[[1, 1]]], [[[1, -1]]]]), b=A([0, 0]))
    y = conv.forward(x, training=False)
    np.testing.assert_array_equal(y, [[[[0 + 2, 1 + 3]], [[4 - 6, 5 - 7]]]])


def test_depthwise_orders_outputs_channel_major():
    # 1x1 kernels, multiplier 2: output c*2 + m = x[c] * W[c*2 + m]
    dw = L.DepthwiseConv2D(2, 1, depth_multiplier=2, W=A([2, 3, 5, 7]).reshape(4, 1, 1, 1), b=np.zeros(4))
    y = dw.forward(A([[[[1.0]], [[10.0]]]]), training=False)
    np.testing.assert_array_equal(y.ravel(), [2, 3, 50, 70])


def test_conv_transpose_worked_example():
    # stride 2, a 1x2 kernel [1, 10]: each input cell stamps the kernel at 2j -> [1, 10, 2, 20]
    tr = L.Conv2DTranspose(1, 1, (1, 2), stride=2, padding=0, W=A([[[[1, 10]]]]), b=A([0.0]))
    y = tr.forward(A([[[[1, 2]]]]), training=True)
    np.testing.assert_array_equal(y, [[[[1, 10, 2, 20]]]])
    dx = tr.backward(A([[[[1, 0, 0, 1]]]]))  # dx[j] = sum_k dy[2j + k] W[k]
    np.testing.assert_array_equal(dx, [[[[1, 10]]]])


@pytest.mark.parametrize(("padding", "output_padding", "crops", "out"), [
    ("same", None, (0, 1, 0, 1), (8, 8)),     # k 3, s 2: P = 1, the odd row at the bottom (TF)
    ("valid", None, (0, 0, 0, 0), (9, 9)),    # (4 - 1) * 2 + 3
    (1, 1, (1, 0, 1, 0), (8, 8)),             # PyTorch: crop p on both sides, output_padding at the end
    ("same", 1, (0, 1, 0, 1), (8, 8)),        # Keras: (4 - 1) * 2 + 3 % 2 + 1
])
def test_conv_transpose_crops(padding, output_padding, crops, out):
    tr = L.Conv2DTranspose(1, 1, 3, stride=2, padding=padding, output_padding=output_padding, W=np.ones((1, 1, 3, 3)))
    assert tr.crops_for((4, 4)) == crops
    assert tr.output_shape_for((4, 4)) == out


def test_conv_transpose_valid_extends_when_the_stride_exceeds_the_kernel():
    tr = L.Conv2DTranspose(1, 1, 2, stride=3, padding="valid", W=np.ones((1, 1, 2, 2)), b=A([0.5]))
    y = tr.forward(np.ones((1, 1, 1, 1)), training=False)
    np.testing.assert_array_equal(y[0, 0], [[1.5, 1.5, 0.5], [1.5, 1.5, 0.5], [0.5, 0.5, 0.5]])  # bias on the extension


@pytest.mark.parametrize(("ties", "expected"), [("first", [0, 2, 0, 0]), ("split", [0, 1, 1, 0])])
def test_global_max_pool_ties(ties, expected):
    pool = L.GlobalMaxPool2D(keepdims=False, ties=ties)
    y = pool.forward(A([[[[1, 5], [5, 0]]]]), training=True)
    np.testing.assert_array_equal(y, [[5]])
    np.testing.assert_array_equal(pool.backward(A([[2]])).ravel(), expected)


def test_global_avg_pool_keepdims():
    pool = L.GlobalAvgPool2D(keepdims=True)
    y = pool.forward(A([[[[1, 2], [3, 6]]]]), training=True)
    assert y.shape == (1, 1, 1, 1) and y[0, 0, 0, 0] == 3
    np.testing.assert_array_equal(pool.backward(A([[[[4]]]])), np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize(("make", "message"), [
    (lambda: L.Conv2D(6, 4, 3, groups=4),
     r"groups: expected a divisor of both in_channels \(6\) and filters \(4\), got 4"),
    (lambda: L.Conv1D(3, 6, 3, groups=2), r"groups: .*in_channels \(3\).*got 2"),
    (lambda: L.Conv2DTranspose(4, 6, 3, groups=3), r"groups: .*in_channels \(4\).*got 3"),
    (lambda: L.Conv2DTranspose(2, 2, 3, stride=2, output_padding=2),
     r"output_padding: expected each value smaller than the stride or the dilation .*< max\(2, 1\) = 2\), got 2"),
    (lambda: L.Conv2DTranspose(2, 2, 3, stride=1, dilation=2, output_padding=(0, 2)),
     r"output_padding: .*width: < max\(1, 2\) = 2\), got \(0, 2\)"),
    (lambda: L.Conv1D(2, 2, 3, padding="full"), r"padding: expected one of 'valid', 'same', 'causal', got 'full'"),
    (lambda: L.GlobalMaxPool2D(ties="mean"), r"ties: expected one of 'first', 'split', got 'mean'"),
    (lambda: L.DepthwiseConv2D(3, 3, depth_multiplier=0), r"depth_multiplier: expected a positive integer, got 0"),
])
def test_bad_arguments_name_themselves(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_input_rank_and_size():
    with pytest.raises(ValueError, match="x"):
        L.Conv1D(2, 2, 3, W=np.ones((2, 2, 3))).forward(np.zeros((1, 2, 3, 4)), training=False)
    with pytest.raises(ValueError, match=r"padding: the output of a \(1, 1\) input would be \(-1, -1\)"):
        L.Conv2DTranspose(1, 1, 3, padding=2, W=np.ones((1, 1, 3, 3))).forward(np.zeros((1, 1, 1, 1)), training=False)


def test_float32_stays_float32():
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5)).astype(np.float32)
    for layer in (L.Conv2D(4, 4, 3, groups=2, dilation=2, dtype="float32", rng=np.random.default_rng(1)),
                  L.Conv2DTranspose(4, 2, 3, stride=2, padding="same", dtype="float32", rng=np.random.default_rng(1)),
                  L.DepthwiseConv2D(4, 3, dtype="float32", rng=np.random.default_rng(1)),
                  L.GlobalMaxPool2D(dtype="float32")):
        y = layer.forward(x, training=True)
        assert y.dtype == np.float32 and layer.backward(np.ones_like(y)).dtype == np.float32


def test_keras_same_transpose_is_torch_padding_shifted_by_one():
    """Keras 'same' (k 3, s 2) crops (0, 1); PyTorch padding=1, output_padding=1 (the mapping of Keras's
    own _convert_conv_transpose_padding_args_from_keras_to_torch) crops (1, 0): the same shape, shifted
    by one row and column. padding=0 plus the explicit crop (the twin) is exact."""
    from reference import frameworks, layouts

    keras, torch = frameworks.keras(), frameworks.torch()
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal((1, 2, 4, 4))
    k = keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same", use_bias=False, dtype="float64",
                                     kernel_initializer=keras.initializers.Constant(layouts.conv_transpose_to_keras(W)))
    yk = layouts.nhwc_to_nchw(np.asarray(k(layouts.nchw_to_nhwc(x))))
    t = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(W))
        yt = t(torch.from_numpy(x)).numpy()
    assert yk.shape == yt.shape == (1, 3, 8, 8)
    assert np.abs(yk - yt).max() > 0.1  # not the same numbers
    np.testing.assert_allclose(yt[:, :, :-1, :-1], yk[:, :, 1:, 1:], rtol=1e-13, atol=1e-13)
    tr = L.Conv2DTranspose(2, 3, 3, stride=2, padding="same", W=W, b=np.zeros(3))
    np.testing.assert_allclose(tr.forward(x, training=False), yk, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("layers", [
    lambda rng: [L.Conv2D(4, 4, 3, padding="same", dilation=2, groups=2, rng=rng), L.ReLU(), L.GlobalAvgPool2D(),
                 L.Dense(4, 3, rng=rng)],
    lambda rng: [L.DepthwiseConv2D(4, 3, depth_multiplier=2, stride=2, padding="same", rng=rng),
                 L.GlobalMaxPool2D(keepdims=True), L.Flatten(), L.Dense(8, 3, rng=rng)],
    lambda rng: [L.Conv2DTranspose(4, 2, 3, stride=2, padding="same", rng=rng), L.Tanh(), L.Flatten(),
                 L.Dense(2 * 10 * 10, 3, rng=rng)],
], ids=["grouped-dilated", "depthwise-globalmax", "transpose"])
def test_the_fast_numerical_gradient_covers_the_variants(layers):
    """The traits the variants declare (per_sample) let scratch.fastgrad differentiate them; its Conv2D
    path handles groups and dilation. Same numbers as the naive loop."""
    from scratch import losses as S
    from scratch.fastgrad import fast_numerical_gradient
    from scratch.gradcheck import model_numerical_gradient
    from scratch.model import Sequential

    rng = np.random.default_rng(3)
    model = Sequential(layers(rng))
    x, t = rng.standard_normal((3, 4, 5, 5)), rng.integers(0, 3, 3)
    fast = fast_numerical_gradient(model, x, t, loss=S.SoftmaxCrossEntropy(), training=False, h=1e-5)
    slow = model_numerical_gradient(model, x, t, loss=S.SoftmaxCrossEntropy(), training=False, h=1e-5)
    for name in fast:
        np.testing.assert_allclose(fast[name], slow[name], rtol=0, atol=1e-9, err_msg=name)
