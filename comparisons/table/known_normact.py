"""Known differences of the activations and the embedding beyond the textbook: what differs, why,
a link, and the relation that holds (the harness compares through it at the case's tolerance).

All relations are computed in float64 from the case's input x (and upstream gradient dy), then
rounded to the framework value's dtype.
"""

from __future__ import annotations

import math

import numpy as np

from comparisons.table.links import KERAS_SRC, TF_SRC, TORCH_DOCS, TORCH_NATIVE
from comparisons.table.spec import Context, Known
from scratch.layers.modern_activations import GELU_TANH_COEFF, SQRT1_2, SQRT_2_OVER_PI, erfc


def _x(ctx: Context) -> np.ndarray:
    return np.asarray(ctx.inputs["x"], dtype=np.float64)


def _dy(ctx: Context) -> np.ndarray:
    return np.asarray(ctx.inputs["dy"], dtype=np.float64)


# -- LeakyReLU: the slope as a float32 attribute --------------------------------------------------
def leaky_relu_float32_slope(slope: float) -> Known:
    s32 = float(np.float32(slope))
    ratio = slope / s32

    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        return np.where(_x(ctx) > 0, f, f * ratio).astype(f.dtype)

    return Known(
        framework="keras", quantities=("output", "dx"), dtypes=("float64",),
        what=f"Keras LeakyReLU multiplies by float32({slope}) = {s32!r} in a float64 model.",
        why="keras.ops.leaky_relu calls tf.nn.leaky_relu(x, alpha=negative_slope), whose kernel takes alpha as a "
            "float32 attribute (attr alpha: float), whatever the tensor's dtype; passing np.float64(slope) does not "
            "help.",
        link=f"{TF_SRC}/core/ops/nn_ops.cc",
        holds=f"where x <= 0: scratch = Keras * {slope} / float32({slope}) (output and dx); x > 0 equal",
        relation=relation,
    )


# -- GELU: TensorFlow casts its constants through float32 ----------------------------------------
C32 = float(np.float32(SQRT1_2))
K32 = float(np.float32(GELU_TANH_COEFF))


def _gelu_exact(x: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    """0.5 x erfc(-x c) and its derivative 0.5 erfc(-x c) + x c exp(-x^2 c^2) / sqrt(pi)."""
    return 0.5 * x * erfc(-x * c), 0.5 * erfc(-x * c) + x * c * np.exp(-(x * c) ** 2) / math.sqrt(math.pi)


def _gelu_tanh(x: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """0.5 x (1 + tanh(a (x + k x^3))) and its derivative, a = sqrt(2 / pi)."""
    t = np.tanh(SQRT_2_OVER_PI * (x + k * x**3))
    return 0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * k * x * x)


def gelu_float32_constants(approximate: str) -> tuple[Known, Known]:
    """Two Knowns (output, dx), the same difference: each quantity has its own relation."""
    exact = approximate == "none"
    fn = _gelu_exact if exact else _gelu_tanh
    const_tf, const = (C32, SQRT1_2) if exact else (K32, GELU_TANH_COEFF)
    if exact:
        constant, formula = f"1/sqrt(2) = {SQRT1_2!r} as float32 {C32!r}", "0.5 x erfc(-x * float32(1/sqrt 2))"
    else:
        constant, formula = (f"0.044715 as float32 {K32!r}",
                             "0.5 x (1 + tanh(sqrt(2/pi) (x + float32(0.044715) x^3)))")

    def on_output(f: np.ndarray, ctx: Context) -> np.ndarray:
        x = _x(ctx)
        return (f + (fn(x, const)[0] - fn(x, const_tf)[0])).astype(f.dtype)

    def on_dx(f: np.ndarray, ctx: Context) -> np.ndarray:
        x = _x(ctx)
        return (f + _dy(ctx) * (fn(x, const)[1] - fn(x, const_tf)[1])).astype(f.dtype)

    common = dict(
        framework="keras", dtypes=("float64",),
        what=f"Keras GELU (approximate={not exact}) in float64 computes {formula}: {constant}.",
        why="tf.nn.gelu writes its constants as math_ops.cast(python_float, features.dtype), which makes a float32 "
            "tensor first and widens it, so the constant keeps float32 precision.",
        link=f"{TF_SRC}/python/ops/nn_ops.py",
        holds="scratch output = Keras output + (g(x) - g_tf(x)), scratch dx = Keras dx + dy * (g'(x) - g_tf'(x)), "
              "g the formula with the exact constant and g_tf with the float32 one (float64 arithmetic)",
    )
    return Known(quantities=("output",), relation=on_output, **common), Known(quantities=("dx",), relation=on_dx,
                                                                              **common)


# -- Softplus: PyTorch's linear cut-off -------------------------------------------------------------
def softplus_torch_threshold(threshold: float) -> Known:
    """PyTorch returns x (gradient 1) above ``threshold``; the exact function adds log1p(e^-x)."""
    def on_dx(f: np.ndarray, ctx: Context) -> np.ndarray:
        x = _x(ctx)
        return np.where(x > threshold, f / (1 + np.exp(-np.abs(x))), f).astype(f.dtype)

    return Known(
        framework="torch", quantities=("dx",), dtypes=("float64",),
        what=f"PyTorch Softplus(beta=1, threshold={threshold:g}) returns x itself for x > {threshold:g}: its gradient "
             f"there is 1 instead of sigmoid(x) = 1 - e^-x (1 - 2e-9 at x = {threshold:g}); the value misses "
             f"log1p(e^-x) < e^-{threshold:g}, at most 1e-10 relative to y > {threshold:g}, so the output stays "
             "within the float64 tolerance.",
        why="The cut-off is part of PyTorch's softplus kernel and cannot be turned off (threshold=inf overflows "
            "exp for large x); in float32 e^-x is below the resolution there, so only float64 sees it.",
        link=f"{TORCH_DOCS}/torch.nn.Softplus.html",
        holds=f"where x > {threshold:g}: scratch dx = PyTorch dx * sigmoid(x); elsewhere equal",
        relation=on_dx,
    )


# -- Embedding: padding_idx vs mask_zero --------------------------------------------------------------
def embedding_mask_zero_gradient(padding_idx: int) -> Known:
    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        out = f.copy()
        out[padding_idx] = 0
        return out

    return Known(
        framework="keras", quantities=("grad:W",),
        what="Keras Embedding(mask_zero=True), the counterpart of padding_idx=0, still gives row 0 its gradient; "
             "PyTorch's padding_idx (and scratch's) zeroes it.",
        why="mask_zero only makes compute_mask return ids != 0 for the layers after the embedding; the lookup "
            "ops.take(embeddings, ids) is differentiated like any gather.",
        link=f"{KERAS_SRC}/layers/core/embedding.py",
        holds=f"scratch dW = Keras dW with row {padding_idx} set to 0; every other row and the output equal",
        relation=relation,
    )


# -- HardSigmoid: PyTorch's backward multiplies by float32(1/6) ---------------------------------------
SIXTH32 = float(np.float32(1 / 6))


def hardsigmoid_torch_float32_sixth() -> Known:
    def relation(f: np.ndarray, ctx: Context) -> np.ndarray:
        x = _x(ctx)
        return np.where((x > -3) & (x < 3), f * ((1 / 6) / SIXTH32), f).astype(f.dtype)

    return Known(
        framework="torch", quantities=("dx",), dtypes=("float64",),
        what=f"PyTorch Hardsigmoid's backward multiplies dy by float32(1/6) = {SIXTH32!r} in float64 (the forward "
             "divides by 6 exactly).",
        why="hardsigmoid_backward_kernel declares const scalar_t one_sixth(1.0f / 6.0f): a float literal, rounded to "
            "float32 before it is widened to double.",
        link=f"{TORCH_NATIVE}/cpu/Activation.cpp",
        holds="where -3 < x < 3: scratch dx = PyTorch dx * (1/6) / float32(1/6) (relative 3e-8); elsewhere both 0",
        relation=relation,
    )
