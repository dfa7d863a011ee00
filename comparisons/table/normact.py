"""Cases of the table for the layers beyond the textbook that ports meet first: LayerNorm and
GroupNorm, Embedding, and the activations LeakyReLU, ELU, GELU, SiLU, Softplus, HardSigmoid.

Every hyperparameter is explicit on every side (the framework defaults differ: LayerNorm epsilon
1e-3 in Keras vs 1e-5 in PyTorch, LeakyReLU slope 0.3 vs 0.01; the defaults table lists them).
Normalization and activation layers compute the same in training and evaluation; the normalization
cases run both modes to show it.
"""

from __future__ import annotations

import numpy as np

from comparisons.table import known_normact as KN
from comparisons.table.initializers import DENSE, K, T, initializer
from comparisons.table.laws import Law
from comparisons.table.layers import layer, normal
from scratch import layers as L
from scratch.layers import embedding as E

TRAIN_EVAL = ("train", "eval")


def _affine(shape, seed=0):
    """Non-trivial gamma (around 1) and beta, so that their gradients and the forward exercise them."""
    rng = np.random.default_rng(seed)
    return {"gamma": 1 + 0.5 * rng.standard_normal(shape), "beta": 0.3 * rng.standard_normal(shape)}


def layernorm(id, summary, shape, axes, eps):
    """LayerNorm over ``axes`` of inputs of ``shape``, N(0.5, 2^2) values."""
    pshape = tuple(shape[a] for a in axes)
    return layer(f"layernorm/{id}", ("LayerNorm",), summary,
                 lambda dtype: L.LayerNorm(pshape, axes=axes, eps=eps, **_affine(pshape), dtype=dtype),
                 normal(shape, steps=2, scale=2.0, shift=0.5), TRAIN_EVAL)


def groupnorm(id, summary, shape, groups, eps):
    c = shape[1]
    return layer(f"groupnorm/{id}", ("GroupNorm",), summary,
                 lambda dtype: L.GroupNorm(c, groups, eps=eps, **_affine((c,)), dtype=dtype),
                 normal(shape, steps=2, scale=2.0, shift=0.5), TRAIN_EVAL)


NORMALIZATION = [
    layernorm("last-axis", "(4, 5, 8) over the last axis, epsilon 1e-3 (Keras's default) on both sides",
              (4, 5, 8), (2,), 1e-3),
    layernorm("trailing-2", "(4, 3, 6) over the last two axes, eps 1e-5 (PyTorch's default) on both sides",
              (4, 3, 6), (1, 2), 1e-5),
    layernorm("middle-axis", "(4, 6, 5) over axis 1 only: PyTorch needs the axis moved to the end",
              (4, 6, 5), (1,), 1e-5),
    layernorm("chw", "(2, 3, 4, 5) images over (C, H, W)", (2, 3, 4, 5), (1, 2, 3), 1e-5),
    groupnorm("nchw-g3", "(2, 6, 4, 4), 3 groups of 2 channels (Keras on channels-last)", (2, 6, 4, 4), 3, 1e-5),
    groupnorm("ncl-instance", "(3, 4, 7), groups = channels = 4 (instance normalization)", (3, 4, 7), 4, 1e-5),
    groupnorm("nc-g2", "(5, 6) without spatial axes, 2 groups, epsilon 1e-3", (5, 6), 2, 1e-3),
    groupnorm("nchw-g1", "(2, 4, 3, 3), one group (LayerNorm over (C, H, W) with per-channel gamma)",
              (2, 4, 3, 3), 1, 1e-5),
]


def ids(shape, num, zero_fraction=0.3):
    """Integer ids in [0, num), with id 0 over-represented (the padding id of padded sequences)."""
    def make(rng, dtype):
        x = rng.integers(1, num, size=shape)
        x[rng.random(shape) < zero_fraction] = 0
        return {"xs": [x, rng.integers(0, num, size=shape)]}
    return make


def _embedding(padding_idx):
    return lambda dtype: L.Embedding(10, 4, padding_idx=padding_idx, W=np.random.default_rng(3).standard_normal(
        (10, 4)), dtype=dtype)


EMBEDDING = [
    layer("embedding/plain", ("Embedding",), "10 x 4 table, ids (5, 7) with repeats: rows' gradients add up",
          _embedding(None), ids((5, 7), 10), ("train", "train")),
    layer("embedding/padding-0", ("Embedding",), "padding_idx=0 (PyTorch) against mask_zero=True (Keras)",
          _embedding(0), ids((5, 7), 10), ("train", "train"), known=[KN.embedding_mask_zero_gradient(0)]),
]


def uniform(shape, low, high):
    """One batch of U(low, high) entries."""
    def make(rng, dtype):
        return {"xs": [rng.uniform(low, high, size=shape).astype(dtype)]}
    return make


def _act(cls, **kw):
    return lambda dtype: cls(**kw, dtype=dtype)


SHAPE = (6, 10)
MODERN_ACTIVATIONS = [
    layer("leaky-relu/0.2", ("LeakyReLU",), "negative_slope 0.2 (keras.ops.leaky_relu's default)",
          _act(L.LeakyReLU, negative_slope=0.2), normal(SHAPE, scale=2), known=[KN.leaky_relu_float32_slope(0.2)]),
    layer("leaky-relu/0.3", ("LeakyReLU",), "negative_slope 0.3 (the Keras layer's default)",
          _act(L.LeakyReLU, negative_slope=0.3), normal(SHAPE, scale=2), known=[KN.leaky_relu_float32_slope(0.3)]),
    layer("leaky-relu/0.01", ("LeakyReLU",), "negative_slope 0.01 (PyTorch's default)",
          _act(L.LeakyReLU, negative_slope=0.01), normal(SHAPE, scale=2), known=[KN.leaky_relu_float32_slope(0.01)]),
    layer("elu/1.0", ("ELU",), "alpha 1 (both defaults)", _act(L.ELU, alpha=1.0), normal(SHAPE, scale=2)),
    layer("elu/0.5", ("ELU",), "alpha 0.5 (Keras: tf.where(x > 0, elu(x), alpha * elu(x)))",
          _act(L.ELU, alpha=0.5), normal(SHAPE, scale=2)),
    layer("gelu/exact", ("GELU",), "exact GELU (Keras approximate=False, PyTorch approximate='none')",
          _act(L.GELU, approximate="none"), normal(SHAPE, scale=2), known=KN.gelu_float32_constants("none")),
    layer("gelu/tanh", ("GELU",), "tanh approximation (Keras approximate=True, PyTorch approximate='tanh')",
          _act(L.GELU, approximate="tanh"), normal(SHAPE, scale=2), known=KN.gelu_float32_constants("tanh")),
    layer("silu", ("SiLU",), "SiLU / Swish, x * sigmoid(x), on N(0, 4^2)", _act(L.SiLU), normal(SHAPE, scale=4)),
    layer("softplus/exact", ("Softplus",), "log(1 + e^x) on U(-10, 30): a quarter beyond PyTorch's cut-off at 20",
          _act(L.Softplus, threshold=None), uniform(SHAPE, -10.0, 30.0), known=[KN.softplus_torch_threshold(20.0)]),
    layer("softplus/torch-threshold", ("Softplus",), "PyTorch's form (y = x above 20) as a scratch option",
          _act(L.Softplus, threshold=20.0), uniform(SHAPE, -10.0, 30.0), frameworks=("torch",)),
    layer("hard-sigmoid", ("HardSigmoid",), "relu6(x + 3) / 6 on N(0, 3^2), both saturations reached",
          _act(L.HardSigmoid), normal(SHAPE, scale=3), known=[KN.hardsigmoid_torch_float32_sixth()]),
]

# The two default laws of an Embedding table, each drawn by both frameworks (compared by distribution).
EMBEDDING_KW = {"num_embeddings": DENSE[0], "embedding_dim": DENSE[1]}
EMBEDDING_INIT = [
    initializer("init/embedding.keras-default", ("random_uniform",),
                "Keras Embedding's default 'uniform' = RandomUniform() with its default bounds U(-0.05, 0.05)",
                E.KERAS_DEFAULT_INIT, lambda n, m: Law.uniform(-0.05, 0.05), K("RandomUniform"),
                T("uniform_", {"a": -0.05, "b": 0.05})),
    initializer("init/embedding.torch-default", ("random_normal",),
                "PyTorch nn.Embedding's default weight N(0, 1) (a 256 x 512 table, drawn by the module)",
                E.TORCH_DEFAULT_INIT, lambda n, m: Law.normal(0.0, 1.0),
                K("RandomNormal", {"mean": 0.0, "stddev": 1.0}), T("nn.Embedding.weight", EMBEDDING_KW)),
]

NORM_ACT = [*NORMALIZATION, *EMBEDDING, *MODERN_ACTIVATIONS, *EMBEDDING_INIT]

__all__ = ["EMBEDDING", "MODERN_ACTIVATIONS", "NORMALIZATION", "NORM_ACT"]
