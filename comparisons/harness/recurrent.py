"""Run a recurrent layer case with initial states (``Case.check == "stateful"``).

Compares the output, every final state, dx, the gradient of every initial state and every
parameter gradient, under random upstream gradients for the output and for each final state.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from comparisons.harness.runner import pair, upstream_rng
from comparisons.table.spec import Case, Compared, Context


def _stateful_builder(framework: str):
    if framework == "keras":
        from reference.keras_recurrent import build_stateful
    else:
        from reference.torch_recurrent import build_stateful
    return build_stateful


def run_stateful(case: Case, framework: str, dtype: str) -> Iterator[Compared]:
    """One training-mode forward and backward with initial states (the layer has no randomness)."""
    inputs = case.inputs(np.random.default_rng(case.seed), dtype)
    x, states = inputs["xs"][0], tuple(inputs["states"])
    layer = case.make(dtype)
    twin = _stateful_builder(framework)(layer, x.shape)
    y_fw, final_fw = twin.forward(x, states)
    y = layer.forward(x, training=True, initial_state=states)
    up = upstream_rng(case)
    dy = up.standard_normal(y.shape).astype(dtype)
    d_state = tuple(up.standard_normal(s.shape).astype(dtype) for s in states)
    dx_fw, d_initial_fw, grads_fw = twin.backward(dy, d_state)
    dx = layer.backward(dy, d_state=d_state)
    ctx = Context(dtype, (x,), {"x": x})
    yield pair(case, framework, "output", 0, y, y_fw, ctx)
    for name, s, f in zip(layer.state_names, layer.final_state, final_fw, strict=True):
        yield pair(case, framework, f"state:{name}", 0, s, f, ctx)
    yield pair(case, framework, "dx", 0, dx, dx_fw, ctx)
    for name, g, f in zip(layer.state_names, layer.d_initial_state, d_initial_fw, strict=True):
        yield pair(case, framework, f"d_initial:{name}", 0, g, f, ctx)
    for name in layer.params:
        yield pair(case, framework, f"grad:{name}", 0, layer.grads[name], grads_fw[name], ctx)
