"""Cases of the table for multi-head attention (kind "layer", ``check="attention"``).

Self- and cross-attention, with and without an attention mask, with dropout on the attention
weights through an injected mask (drawn here in NumPy, applied by all three). d = 8, 2 heads of 4
(a power of 4, so Keras's float32-cast scale 1/sqrt(dk) = 0.5 is exact). Every bias is non-zero.
The key bias's gradient is zero in exact arithmetic (the softmax along the keys is shift-invariant),
declared in ``params["zero_gradients"]``. Cases with dropout declare the evaluation script for the
generic numerical-gradient test (which would otherwise draw a new mask per evaluation); the runner
trains them (``params["training"]``).
"""

from __future__ import annotations

import numpy as np

from comparisons.table.layers import layer
from scratch.layers.attention import MultiHeadAttention

N, T, S, D, HEADS = 2, 4, 5, 8, 2


def _bias(shape, *, fan_in, fan_out, rng, dtype):
    return rng.uniform(-0.5, 0.5, size=shape).astype(dtype)


def _make(rate: float):
    def make(dtype):
        return MultiHeadAttention(D, HEADS, key_dim=D // HEADS, value_dim=D // HEADS, kv_dim=D, dropout=rate,
                                  weight_init="glorot_uniform", bias_init=_bias, rng=np.random.default_rng(0),
                                  dtype=dtype)
    return make


def _inputs(cross: bool, masked: bool, rate: float):
    def make(rng, dtype):
        s = S if cross else T
        out = {"xs": [rng.standard_normal((N, T, D)).astype(dtype)]}
        if cross:
            out["value"] = rng.standard_normal((N, S, D)).astype(dtype)
        if masked:  # about a third of the pairs hidden; every query keeps key 0
            mask = rng.random((N, T, s)) >= 0.35
            mask[:, :, 0] = True
            out["attention_mask"] = mask
        if rate:
            out["dropout_mask"] = rng.random((N, HEADS, T, s)) >= rate
        return out
    return make


def _case(cross: bool, masked: bool, rate: float):
    kind = "cross" if cross else "self"
    form = f"{kind}{'/mask' if masked else ''}{f'/dropout-{rate:g}' if rate else ''}"
    lengths = f"cross-attention, query length {T}, key/value length {S}" if cross else f"self-attention, length {T}"
    what = (f"{lengths}, d = {D}, {HEADS} heads{', attention mask' if masked else ''}"
            f"{f', dropout {rate:g} on the weights (injected mask)' if rate else ''}")
    return layer(f"mha/{form}", ("MultiHeadAttention",), what, _make(rate), _inputs(cross, masked, rate),
                 script=("eval",) if rate else ("train",), check="attention",
                 params={"training": True, "zero_gradients": ("bk",)})


ATTENTION = [_case(cross, masked, rate) for cross in (False, True) for masked in (False, True) for rate in (0.0, 0.25)]

__all__ = ["ATTENTION"]
