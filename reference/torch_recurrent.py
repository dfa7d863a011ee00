"""Scratch recurrent layers rebuilt as PyTorch modules, every argument explicit, weights converted.

``build_layer`` (``torch_layers.build`` for these classes) wraps ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` so that the
module maps a sequence to the last hidden state (or every one), as the Keras layer does;
``build_stateful`` gives a twin that takes initial states and returns the final ones. Weights are
transposed, GRU gates reordered (Keras z, r, h -> PyTorch r, z, n) and biases split into bias_ih and
bias_hh (``layouts``). The gradient of scratch's one-row bias (SimpleRNN, LSTM) is bias_ih's, which
equals bias_hh's (both enter only through their sum).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from reference import frameworks, layouts
from reference.twin import TorchLayerTwin


def _t(a: np.ndarray):
    return frameworks.torch().from_numpy(np.array(a))


def _tdtype(layer):
    return getattr(frameworks.torch(), layer.dtype.name)


@cache
def _wrapper_class():
    nn = frameworks.torch().nn

    class RecurrentOutput(nn.Module):
        """``rnn(x)`` -> every step's output (return_sequences) or the last one, as Keras returns it."""

        def __init__(self, rnn, return_sequences: bool) -> None:
            super().__init__()
            self.rnn, self.return_sequences = rnn, return_sequences

        def forward(self, x):
            out, _ = self.rnn(x)
            return out if self.return_sequences else out[:, -1]

    return RecurrentOutput


def _rnn(layer):
    """The PyTorch module of a scratch recurrent layer with its weights, handles and call."""
    torch = frameworks.torch()
    nn = torch.nn
    kind = type(layer).__name__
    args = {"num_layers": 1, "bias": True, "batch_first": True, "dropout": 0.0, "bidirectional": False}
    if kind == "SimpleRNN":
        args = {"nonlinearity": "tanh", **args}
    if kind == "LSTM":
        args = {**args, "proj_size": 0}
    if kind == "GRU" and not layer.reset_after:
        raise NotImplementedError("reset_after: PyTorch's nn.GRU applies the reset gate after the product only "
                                  "(reset_after=True)")
    cls = {"SimpleRNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind]
    module = cls(layer.input_size, layer.units, **args, dtype=_tdtype(layer))
    b_ih, b_hh = layouts.rnn_bias_to_torch(layer.params["b"], kind)
    with torch.no_grad():
        module.weight_ih_l0.copy_(_t(layouts.rnn_kernel_to_torch(layer.params["W"], kind)))
        module.weight_hh_l0.copy_(_t(layouts.rnn_kernel_to_torch(layer.params["U"], kind)))
        module.bias_ih_l0.copy_(_t(b_ih))
        module.bias_hh_l0.copy_(_t(b_hh))
    two_rows = layer.params["b"].ndim == 2
    handles = {
        "W": (module.weight_ih_l0, lambda w: layouts.rnn_kernel_from_torch(w, kind)),
        "U": (module.weight_hh_l0, lambda w: layouts.rnn_kernel_from_torch(w, kind)),
        "b": (module.bias_ih_l0, lambda g: layouts.rnn_bias_from_torch(g, None, kind)),
    }
    if two_rows:  # both rows are parameters of their own: read the pair
        handles["b"] = (_BiasPair(module), lambda pair: layouts.rnn_bias_from_torch(pair[0], pair[1], kind))
    call = f"nn.{cls.__name__}({layer.input_size}, {layer.units}, " + \
        ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"
    return module, handles, call


class _BiasPair:
    """bias_ih_l0 and bias_hh_l0 behind one handle for a GRU's (2, 3u) bias: ``.grad`` and
    ``.detach()`` give both, stacked; ``parts`` are the two parameters (an optimizer steps those)."""

    def __init__(self, module) -> None:
        self.module = module
        self.parts = (module.bias_ih_l0, module.bias_hh_l0)

    @property
    def grad(self):
        return _Stacked(self.module.bias_ih_l0.grad, self.module.bias_hh_l0.grad)

    @grad.setter
    def grad(self, value) -> None:
        for p in self.parts:
            p.grad = value

    def detach(self):
        return _Stacked(self.module.bias_ih_l0.detach(), self.module.bias_hh_l0.detach())


class _Stacked:
    def __init__(self, a, b) -> None:
        self.a, self.b = a, b

    def detach(self):
        return self

    def numpy(self):
        return np.stack([self.a.detach().numpy(), self.b.detach().numpy()])


def build_layer(layer, input_shape: tuple[int, ...]) -> TorchLayerTwin:
    """The twin ``torch_layers.build`` returns for a recurrent layer (registered there)."""
    rnn, handles, call = _rnn(layer)
    module = _wrapper_class()(rnn, layer.return_sequences)
    last = "" if layer.return_sequences else "[:, -1]"
    return TorchLayerTwin(module, handles, call=f"{call}  # output{last} of (output, state)")


@dataclass
class TorchRecurrentTwin:
    """A PyTorch recurrent module with initial states in and final states out."""

    module: object
    params: dict
    return_sequences: bool
    call: str = ""
    framework: str = "torch"

    def forward(self, x: np.ndarray, initial_state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple]:
        torch = frameworks.torch()
        self.module.zero_grad(set_to_none=True)
        self._x = torch.from_numpy(np.array(x)).requires_grad_(True)
        self._s0 = [torch.from_numpy(np.array(s)[None]).requires_grad_(True) for s in initial_state]  # (1, N, u)
        out, state = self.module(self._x, self._s0[0] if len(self._s0) == 1 else tuple(self._s0))
        state = (state,) if len(self._s0) == 1 else state
        y = out if self.return_sequences else out[:, -1]
        self._outs = [y, *state]
        return y.detach().numpy().copy(), tuple(s[0].detach().numpy().copy() for s in state)

    def backward(self, dy: np.ndarray, d_state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple, dict]:
        torch = frameworks.torch()
        upstream = [torch.from_numpy(np.array(dy)), *[torch.from_numpy(np.array(d)[None]) for d in d_state]]
        torch.autograd.backward(self._outs, upstream)
        grads = {k: conv(p.grad.detach().numpy().copy()) for k, (p, conv) in self.params.items()}
        return (self._x.grad.numpy().copy(), tuple(s.grad[0].numpy().copy() for s in self._s0), grads)


def build_stateful(layer, input_shape: tuple[int, ...]) -> TorchRecurrentTwin:
    """The PyTorch twin of a scratch recurrent layer that takes and returns states."""
    module, handles, call = _rnn(layer)
    return TorchRecurrentTwin(module, handles, layer.return_sequences, call=f"{call}  # (output, state) = rnn(x, h0)")
