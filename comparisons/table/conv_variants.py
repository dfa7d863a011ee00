"""Cases of the table for the convolution variants (kind "layer"): Conv2D with dilation and groups,
Conv1D, DepthwiseConv2D, Conv2DTranspose, global average and max pooling. Forward output, input
gradient and every parameter gradient under a random upstream gradient, as ``layers.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from comparisons.table.layers import _uniform_bias, layer, normal, seeded, tied
from comparisons.table.links import KERAS_SRC, TORCH_DOCS
from comparisons.table.spec import Context, Known
from scratch import layers as L


def _conv(cls, family: str, id: str, summary: str, shape, frameworks=("keras", "torch"), **kw):
    make = seeded(cls, bias_init=_uniform_bias, **kw)
    return layer(f"{family}/{id}", (cls.__name__,), summary, make, normal(shape), frameworks=frameworks)


CONV2D_MORE = [
    _conv(L.Conv2D, "conv2d", "dilation2-same", "3x3, dilation 2 (span 5), 'same' (pads 2, 2)", (2, 3, 9, 9),
          in_channels=3, filters=4, kernel_size=3, stride=1, padding="same", dilation=2, groups=1),
    _conv(L.Conv2D, "conv2d", "groups2-same-s2", "4 -> 6 channels in 2 groups, 3x3, stride 2, 'same' on H=W=8",
          (2, 4, 8, 8), in_channels=4, filters=6, kernel_size=3, stride=2, padding="same", dilation=1, groups=2),
    _conv(L.Conv2D, "conv2d", "groups3-dilation2-pad1", "6 -> 3 channels in 3 groups, 3x3, dilation 2, padding 1",
          (2, 6, 7, 7), in_channels=6, filters=3, kernel_size=3, stride=1, padding=1, dilation=2, groups=3),
]

CONV1D = [
    _conv(L.Conv1D, "conv1d", "valid-s2", "3 -> 4 channels, k 3, stride 2, 'valid' on L = 11", (2, 3, 11),
          in_channels=3, filters=4, kernel_size=3, stride=2, padding="valid", dilation=1, groups=1),
    _conv(L.Conv1D, "conv1d", "same-dilation2-groups2", "4 -> 6 channels in 2 groups, k 4, dilation 2, 'same' "
          "(span 7: pads 3, 3)", (2, 4, 10), in_channels=4, filters=6, kernel_size=4, stride=1, padding="same",
          dilation=2, groups=2),
    _conv(L.Conv1D, "conv1d", "causal", "k 3, dilation 2, Keras 'causal' (4 zeros on the left; PyTorch: "
          "ConstantPad1d((4, 0)))", (2, 3, 9), in_channels=3, filters=4, kernel_size=3, stride=1, padding="causal",
          dilation=2, groups=1),
    _conv(L.Conv1D, "conv1d", "pad1", "k 3, integer padding 1 (Keras: ZeroPadding1D + 'valid')", (2, 2, 7),
          in_channels=2, filters=3, kernel_size=3, stride=1, padding=1, dilation=1, groups=1),
]

DEPTHWISE = [
    _conv(L.DepthwiseConv2D, "depthwiseconv2d", "m1-same", "3 channels, 3x3, depth_multiplier 1, 'same'",
          (2, 3, 7, 7), in_channels=3, kernel_size=3, depth_multiplier=1, stride=1, padding="same", dilation=1),
    _conv(L.DepthwiseConv2D, "depthwiseconv2d", "m2-s2-same", "3 channels x 2, 3x3, stride 2, 'same' on H=W=8 "
          "(pads 0, 1)", (2, 3, 8, 8), in_channels=3, kernel_size=3, depth_multiplier=2, stride=2, padding="same",
          dilation=1),
]

TRANSPOSE = [
    _conv(L.Conv2DTranspose, "conv2dtranspose", "same-k3-s2", "3x3, stride 2, Keras 'same' on 4x4 -> 8x8: crop "
          "(0, 1), which no PyTorch padding/output_padding gives (twin: padding 0 and an explicit crop)",
          (2, 3, 4, 4), in_channels=3, filters=4, kernel_size=3, stride=2, padding="same", output_padding=None,
          dilation=1, groups=1),
    _conv(L.Conv2DTranspose, "conv2dtranspose", "same-k4-s2", "4x4, stride 2, Keras 'same' on 4x5: crop (1, 1) = "
          "PyTorch padding 1", (2, 3, 4, 5), in_channels=3, filters=2, kernel_size=4, stride=2, padding="same",
          output_padding=None, dilation=1, groups=1),
    _conv(L.Conv2DTranspose, "conv2dtranspose", "valid-k2-s3", "2x2, stride 3, Keras 'valid': one extra zero row "
          "and column (+ bias) = PyTorch output_padding 1", (2, 2, 3, 3), in_channels=2, filters=3, kernel_size=2,
          stride=3, padding="valid", output_padding=None, dilation=1, groups=1),
    _conv(L.Conv2DTranspose, "conv2dtranspose", "pad1-op1", "3x3, stride 2, PyTorch padding 1, output_padding 1 "
          "(Keras: 'valid' + Cropping2D((1, 0)))", (2, 3, 4, 4), in_channels=3, filters=4, kernel_size=3, stride=2,
          padding=1, output_padding=1, dilation=1, groups=1),
    _conv(L.Conv2DTranspose, "conv2dtranspose", "pad2-dilation2", "3x3, dilation 2 (span 5), stride 1, padding 2 "
          "(PyTorch only: TensorFlow's CPU kernel refuses a dilated Conv2DTranspose)", (2, 2, 5, 5),
          frameworks=("torch",), in_channels=2, filters=3, kernel_size=3, stride=1, padding=2, output_padding=None,
          dilation=2, groups=1),
    _conv(L.Conv2DTranspose, "conv2dtranspose", "groups2-pad1", "4 -> 6 channels in 2 groups, 3x3, stride 2, padding "
          "1 (PyTorch only: Keras Conv2DTranspose has no groups)", (2, 4, 4, 4), frameworks=("torch",), in_channels=4,
          filters=6, kernel_size=3, stride=2, padding=1, output_padding=0, dilation=1, groups=2),
]


# -- global pooling -------------------------------------------------------------------------------------
def _hits(x: np.ndarray) -> np.ndarray:
    return x == x.max(axis=(2, 3), keepdims=True)


def _first(x: np.ndarray) -> np.ndarray:
    n, c, h, w = x.shape
    flat = np.zeros((n * c, h * w))
    flat[np.arange(n * c), x.reshape(n * c, -1).argmax(axis=1)] = 1.0
    return flat.reshape(x.shape)


def ties_rule(framework: str) -> Known:
    """Keras splits the gradient of a tied maximum; PyTorch gives it to the first."""
    keras = framework == "keras"

    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        x = ctx.inputs["x"].astype(np.float64)
        total = f.astype(np.float64).sum(axis=(2, 3), keepdims=True)  # either rule passes all of dy on
        if keras:  # scratch gives it to the first maximum
            return (total * _first(x)).astype(f.dtype)
        hits = _hits(x)
        return (total * hits / hits.sum(axis=(2, 3), keepdims=True)).astype(f.dtype)

    return Known(
        framework=framework, quantities=("dx",),
        what=("Keras GlobalMaxPooling2D divides the gradient of a tied maximum equally among the tied cells; "
              "this configuration gives it to the first (PyTorch)." if keras else
              "PyTorch AdaptiveMaxPool2d(1) gives the gradient of a tied maximum to the first cell (row-major); "
              "this configuration divides it among the tied cells (Keras)."),
        why="Keras GlobalMaxPooling2D is ops.max(x, axis=[1, 2]): TensorFlow's reduce_max gradient (_MinOrMaxGrad) "
            "is dy * [x == max] / count; PyTorch's adaptive max pool routes dy to the index of its (first) maximum. "
            "Keras MaxPooling2D (tf.nn.max_pool) picks one cell, unlike Keras's global max. Equal without ties.",
        link=(f"{KERAS_SRC}/layers/pooling/global_max_pooling2d.py" if keras else
              f"{TORCH_DOCS}/torch.nn.AdaptiveMaxPool2d.html"),
        holds="per (n, c): both pass all of dy on: first = sum(dx) at the first maximum; split = sum(dx) * [x == max] "
              "/ number of maxima; outputs equal",
        relation=relation,
    )


def _pool(cls, id: str, summary: str, inputs, known=(), script=("train", "eval"), **kw):
    name = cls.__name__.lower()
    return layer(f"{name}/{id}", (cls.__name__,), summary, lambda dtype: cls(dtype=dtype, **kw), inputs, script,
                 known=known)


GLOBAL_POOLING = [
    _pool(L.GlobalAvgPool2D, "nc", "mean over H, W -> (N, C) (Keras keepdims=False; PyTorch AdaptiveAvgPool2d(1) "
          "+ Flatten)", normal((2, 3, 4, 5), steps=2), keepdims=False),
    _pool(L.GlobalAvgPool2D, "keepdims", "mean over H, W -> (N, C, 1, 1) (PyTorch AdaptiveAvgPool2d(1); Keras "
          "keepdims=True)", normal((2, 3, 4, 5), steps=2), keepdims=True),
    _pool(L.GlobalMaxPool2D, "nc", "max over H, W -> (N, C), no ties", normal((2, 3, 4, 5), steps=2), keepdims=False,
          ties="first"),
    _pool(L.GlobalMaxPool2D, "ties-first", "max over H, W with ties (3 levels): gradient to the first maximum "
          "(PyTorch)", tied((2, 3, 4, 4)), [ties_rule("keras")], ("train",), keepdims=True, ties="first"),
    _pool(L.GlobalMaxPool2D, "ties-split", "max over H, W with ties (3 levels): gradient split among the maxima "
          "(Keras)", tied((2, 3, 4, 4)), [ties_rule("torch")], ("train",), keepdims=False, ties="split"),
]

#: The rest of these run with ``-m slow``: further paddings of a component the fast set already covers.
SLOW = {"conv2d/dilation2-same", "conv2d/groups3-dilation2-pad1", "conv1d/pad1", "conv1d/valid-s2",
        "conv1d/same-dilation2-groups2", "depthwiseconv2d/m1-same", "conv2dtranspose/valid-k2-s3",
        "conv2dtranspose/same-k4-s2", "conv2dtranspose/pad2-dilation2", "globalavgpool2d/nc", "globalmaxpool2d/nc"}
CONV_VARIANTS = [dataclasses.replace(c, params={**c.params, "slow": True}) if c.id in SLOW else c
                 for c in [*CONV2D_MORE, *CONV1D, *DEPTHWISE, *TRANSPOSE, *GLOBAL_POOLING]]

__all__ = ["CONV_VARIANTS"]
