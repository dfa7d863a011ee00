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


def _make(rate: float, d: int = D, heads: int = HEADS, scale_rounding: str = "exact"):
    def make(dtype):
        return MultiHeadAttention(d, heads, key_dim=d // heads, value_dim=d // heads, kv_dim=d, dropout=rate,
                                  scale_rounding=scale_rounding, weight_init="glorot_uniform", bias_init=_bias,
                                  rng=np.random.default_rng(0), dtype=dtype)
    return make


def _inputs(cross: bool, masked: bool, rate: float, d: int = D):
    def make(rng, dtype):
        s = S if cross else T
        out = {"xs": [rng.standard_normal((N, T, d)).astype(dtype)]}
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


def _scale_case(rounding: str, framework: str):
    """d = 9, 3 heads of 3: 1/sqrt(3) is not a float32 number, and Keras rounds it to one."""
    what = {"exact": "1/sqrt(dk) in the layer's dtype (PyTorch)", "float32": "1/sqrt(dk) rounded to float32 (Keras, "
            "even in a float64 model; 5e-9 relative in the output against the exact scale)"}[rounding]
    return layer(f"mha/self/dk3/scale-{rounding}", ("MultiHeadAttention",),
                 f"self-attention, length {T}, d = 9, 3 heads of 3: scale {what}", _make(0.0, 9, 3, rounding),
                 _inputs(False, False, 0.0, 9), check="attention", frameworks=(framework,),
                 params={"training": True, "zero_gradients": ("bk",)})


ATTENTION = [*[_case(cross, masked, rate) for cross in (False, True) for masked in (False, True)
               for rate in (0.0, 0.25)],
             _scale_case("exact", "torch"), _scale_case("float32", "keras")]

__all__ = ["ATTENTION"]
