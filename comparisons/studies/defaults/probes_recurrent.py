"""Readers of the recurrent layers' layouts and conventions in the installed Keras and PyTorch.

Shapes are read from layers built with in = 5 features and u = 3 units and written with those
symbols; the GRU gate order is observed: one input block at a time gets weight 30 (its gate
saturates), every other weight is 0, x = 1 and h0 = -1, so the new h is -1 when the block is the
update gate, -0.5 when it is the reset gate and 0 when it is the candidate.
"""

from __future__ import annotations

import numpy as np

from reference import frameworks

IN, U = 5, 3


def _symbols(shape: tuple[int, ...]) -> str:
    def one(d: int) -> str:
        if d == IN:
            return "in"
        if d == U:
            return "u"
        return f"{d // U}u" if d % U == 0 and d > U else str(d)
    return "(" + ", ".join(one(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def keras_weights(kind: str) -> str:
    """``kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,)`` for a built Keras layer."""
    layer = getattr(frameworks.keras().layers, kind)(U)
    layer.build((None, 4, IN))
    return ", ".join(f"{w.name} {_symbols(tuple(w.shape))}" for w in layer.weights)


def torch_weights(kind: str) -> str:
    """``weight_ih (4u, in), weight_hh (4u, u), bias_ih (4u,), bias_hh (4u,)`` for a PyTorch module."""
    nn = frameworks.torch().nn
    module = {"SimpleRNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind](IN, U)
    return ", ".join(f"{n.removesuffix('_l0')} {_symbols(tuple(p.shape))}" for n, p in module.named_parameters())


_GATE = {-1.0: "update", -0.5: "reset", 0.0: "candidate"}


def _classify(h: float) -> str:
    return next((g for v, g in _GATE.items() if abs(h - v) < 1e-3), f"unknown (h = {h:.4g})")


def keras_gru_gate_order() -> str:
    keras = frameworks.keras()
    names = []
    for j in range(3):
        kernel = np.zeros((1, 3))
        kernel[0, j] = 30.0
        gru = keras.layers.GRU(1, kernel_initializer=keras.initializers.Constant(kernel),
                               recurrent_initializer="zeros", bias_initializer="zeros", reset_after=True,
                               use_cudnn=False)
        h = gru(np.ones((1, 1, 1), "float32"), initial_state=[-np.ones((1, 1), "float32")])
        names.append(_classify(float(np.asarray(h)[0, 0])))
    return ", ".join(names)


def torch_gru_gate_order() -> str:
    torch = frameworks.torch()
    names = []
    for j in range(3):
        gru = torch.nn.GRU(1, 1)
        with torch.no_grad():
            for p in gru.parameters():
                p.zero_()
            gru.weight_ih_l0[j, 0] = 30.0
            _, h = gru(torch.ones(1, 1, 1), -torch.ones(1, 1, 1))
        names.append(_classify(float(h[0, 0, 0])))
    return ", ".join(names)
