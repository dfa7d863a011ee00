"""Run a multi-head attention case (``Case.check == "attention"``): self- or cross-attention, with
an optional attention mask and an injected dropout mask on the attention weights.

Compares the output, dx (the query's gradient; in self-attention it also carries the key's and
value's), d_value in cross-attention, and every parameter gradient, under a random upstream gradient.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from comparisons.harness.runner import pair, upstream_rng
from comparisons.table.spec import Case, Compared, Context


def _builder(framework: str):
    if framework == "keras":
        from reference.keras_layers import build
    else:
        from reference.torch_layers import build
    return build


def run_attention(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """One forward and backward in the mode ``case.params["training"]`` (default True)."""
    inputs = case.inputs(np.random.default_rng(case.seed), dtype)
    x, value = inputs["xs"][0], inputs.get("value")
    amask, dmask = inputs.get("attention_mask"), inputs.get("dropout_mask")
    training = bool(case.params.get("training", True))
    layer = case.make(dtype)
    twin = _builder(framework)(layer, x.shape, kv_length=None if value is None else value.shape[1])
    y_fw = twin.forward(x, value, amask, dmask, training=training)
    y = layer.forward(x, training=training, value=value, attention_mask=amask, dropout_mask=dmask)
    dy = upstream_rng(case).standard_normal(y.shape).astype(dtype)
    dx_fw, dv_fw, grads_fw = twin.backward(dy)
    dx = layer.backward(dy)
    ctx = Context(dtype, (x,), {"x": x})
    yield pair(case, framework, "output", 0, y, y_fw, ctx)
    yield pair(case, framework, "dx", 0, dx, dx_fw, ctx)
    if value is not None:
        yield pair(case, framework, "d_value", 0, layer.d_value, dv_fw, ctx)
    for name in layer.params:
        s, f = layer.grads[name], grads_fw[name]
        if name in case.params.get("zero_gradients", ()):  # zero in exact arithmetic: at grad W's scale
            w = "W" + name[1:]
            s = np.concatenate([s.ravel(), layer.grads[w].ravel()])
            f = np.concatenate([f.ravel(), grads_fw[w].ravel()])
        yield pair(case, framework, f"grad:{name}", 0, s, f, ctx)
