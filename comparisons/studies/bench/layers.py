"""Layer by layer: where one scratch training step goes, and what its matrix products reach.

The profile (cProfile) says which functions take the time; this table says it per layer, with the
FLOPs of each layer's matrix products, so the roofline of the products alone can be read off: if
the product layers, timed alone, already stay below a fraction of the BLAS ceiling, no change to
the element-wise work (ReLU, pooling, the loss) can lift the whole step above it.

Runs inside a scratch benchmark worker (threads already set), on the worker's own model and a
batch of its data.
"""

from __future__ import annotations

import time

import numpy as np

from comparisons.studies.bench import system
from scratch.losses import SoftmaxCrossEntropy
from scratch.model import Sequential


def layer_times(model: Sequential, x: np.ndarray, t: np.ndarray, *, steps: int = 20, repeats: int = 5) -> list[dict]:
    """Per layer, in the order a training step runs them: forward and backward milliseconds (best
    of ``repeats`` means over ``steps`` steps) and the FLOPs of its matrix products.

    Each layer runs as ``Sequential.forward`` / ``backward(need_dx=False)`` run it (the same
    execution order, the same ``need_dx``), so the sum is one training step without the
    optimizer and the model-level checks. Parameters are not updated (the work does not depend on
    their values).
    """
    loss = SoftmaxCrossEntropy()
    model.forward(x, training=True)  # fixes the execution order (ReLU -> MaxPool2D pairs swapped)
    order = list(model._order)
    flops = system.layer_flops(model, x.shape[1:], len(x))
    wanted = [False]
    for i in order[:-1]:
        wanted.append(wanted[-1] or bool(model.layers[i].params))
    best_f = np.full(len(order), np.inf)
    best_b = np.full(len(order), np.inf)
    for _ in range(repeats):
        fw, bw = np.zeros(len(order)), np.zeros(len(order))
        for _ in range(steps):
            h = x
            for k, i in enumerate(order):
                start = time.perf_counter()
                h = model.layers[i]._forward(h, training=True)
                fw[k] += time.perf_counter() - start
            loss.forward(h, t)
            d = loss.backward()
            for k in reversed(range(len(order))):
                start = time.perf_counter()
                d = model.layers[order[k]]._backward(d, need_dx=wanted[k])
                bw[k] += time.perf_counter() - start
        best_f = np.minimum(best_f, fw / steps)
        best_b = np.minimum(best_b, bw / steps)
    rows = []
    for k, i in enumerate(order):
        f_flops, b_flops = flops[i]
        seconds = best_f[k] + best_b[k]
        rows.append({"layer": model.names[i], "type": type(model.layers[i]).__name__,
                     "forward ms": 1e3 * best_f[k], "backward ms": 1e3 * best_b[k],
                     "product GFLOP": (f_flops + b_flops) / 1e9,
                     "GFLOP/s": (f_flops + b_flops) / seconds / 1e9 if f_flops + b_flops else float("nan")})
    return rows
