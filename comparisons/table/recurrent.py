"""Cases of the table for the recurrent layers (kind "layer"): SimpleRNN, LSTM, GRU.

Plain layer cases (the sequence in, the last hidden state out, as in a classifier) run through the
standard layer runner and the framework layers a model uses. ``check="stateful"`` cases,
many-to-one and many-to-many (every hidden state out), also give initial states and compare the
final states and the gradients of the initial states, under random upstream gradients for the
output and for every final state (``comparisons.harness.recurrent``). Every case has non-zero
biases, so the bias gradients and the GRU's two bias rows are exercised. PyTorch has no GRU with
the reset gate before the product (Keras ``reset_after=False``): those cases run against Keras only.
"""

from __future__ import annotations

import numpy as np

from comparisons.table.layers import layer
from scratch import layers as L

N, T, F, UNITS = 3, 6, 5, 4  # batch, time steps, features, hidden units


def _bias(shape, *, fan_in, fan_out, rng, dtype):
    return rng.uniform(-0.5, 0.5, size=shape).astype(dtype)  # non-zero, so db is exercised


def _make(cls, seq: bool, **kw):
    def make(dtype):
        return cls(F, UNITS, return_sequences=seq, weight_init="glorot_uniform", recurrent_init="glorot_uniform",
                   bias_init=_bias, rng=np.random.default_rng(0), dtype=dtype, **kw)
    return make


def _sequence(n_states: int):
    """One batch (N, T, F) of N(0, 1) entries, and ``n_states`` initial states (N, u) of N(0, 0.5^2)."""
    def make(rng, dtype):
        return {"xs": [rng.standard_normal((N, T, F)).astype(dtype)],
                "states": [(0.5 * rng.standard_normal((N, UNITS))).astype(dtype) for _ in range(n_states)]}
    return make


_VARIANTS = [  # id, class, extra arguments, number of states, frameworks, what
    ("simple-rnn", L.SimpleRNN, {}, 1, ("keras", "torch"), "SimpleRNN, tanh"),
    ("lstm", L.LSTM, {}, 2, ("keras", "torch"), "LSTM (gates i, f, c, o; PyTorch: same order, two biases)"),
    ("gru", L.GRU, {"reset_after": True}, 1, ("keras", "torch"),
     "GRU reset_after=True (Keras z, r, h, bias (2, 3u); PyTorch r, z, n)"),
    ("gru-reset-before", L.GRU, {"reset_after": False}, 1, ("keras",),
     "GRU reset_after=False (reset gate before the product, bias (3u,); no PyTorch form)"),
]


def _cases():
    out = []
    for vid, cls, kw, n_states, fws, what in _VARIANTS:
        name = cls.__name__
        for seq, form in ((False, "many-to-one"), (True, "many-to-many")):
            summary = f"{what}, {F} -> {UNITS} over {T} steps, {form}"
            if not seq:  # the form a model uses (the stateful cases cover both forms)
                out.append(layer(f"{vid}/{form}", (name,), summary, _make(cls, seq, **kw), _sequence(0),
                                 frameworks=fws))
            out.append(layer(f"{vid}/{form}/initial-state", (name,),
                             f"{summary}, given initial state(s); final state(s) and their gradients compared",
                             _make(cls, seq, **kw), _sequence(n_states), frameworks=fws, check="stateful"))
    return out


RECURRENT = _cases()

__all__ = ["RECURRENT"]
